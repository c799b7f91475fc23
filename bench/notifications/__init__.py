"""The notification benchmark (issue 15): pendant press to first email and webhook under ingest load, and a
burst of alerts; see __main__."""
