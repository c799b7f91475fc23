"""Carer visits: the evaluation of the visit alerts and verdicts on a simulated month (evaluate.py), and
the benchmark of today's board and a month's report (load.py, run as `python -m bench.visits`)."""
