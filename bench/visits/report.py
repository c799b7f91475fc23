"""The visits evaluation as a Markdown section (docs/eval/visits.md)."""

from __future__ import annotations

from typing import Any

from bench.visits.score import OUTCOMES


def _f(value: Any) -> str:
    if value is None:
        return "-"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def markdown(result: dict[str, Any]) -> str:
    """A table per outcome, the delays, the targets, the false alarms' causes and the verdicts."""
    run = result["run"]
    lines = [
        "# Carer visits: evaluation",
        "",
        f"A simulated month ({run['days']} days from {run['start']}, across the end of British summer "
        f"time) of {run['homes']} homes: {run['visits']} visits and {run['wrong_home_taps']} taps at the "
        "wrong home, "
        "run through the visits code on a real database and one virtual clock (`make eval`, "
        "`python -m bench.visits.evaluate`; bench/visits/). Load average before: "
        f"{run['load_average_before']}, after: {run.get('load_average_after')}.",
        "",
        "| outcome | labels | caught | alerted | precision | recall | as raised: alerted / withdrawn "
        "/ precision / recall | delay p50 / p95 / max (s) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for k in OUTCOMES:
        f = result["outcomes"][k]
        d = f.get("delay_s")
        delay = f"{d['p50']} / {d['p95']} / {d['max']}" if d else "-"
        r = f["as_raised"]
        raised = f"{r['alerted']} / {r['withdrawn']} / {_f(r['precision'])} / {_f(r['recall'])}"
        lines.append(
            f"| {k} | {f['labels']} | {f['caught']} | {f['alerted']} | {_f(f['precision'])} "
            f"| {_f(f['recall'])} | {raised} | {delay} |"
        )
    missed = [k for k, ok in result["targets_met"].items() if not ok]
    lines += [
        "",
        "Late is the rule's condition, nobody checked in 15 min after the planned start, so a missed "
        "visit is late first. On time: labels are visits with no outcome, caught are those that raised "
        "no visit alert, alerted are visits that raised none. Delay: from the moment the rule could "
        "first know (late: planned start + 15 min; missed: planned start + 75 min, the plans' window; "
        "no check-out: planned end + 1 h; short: the check-out; unverified: the check-out + 5 min for "
        "the departure door) to the alert, with the jobs at their default periods (rules 15 s, tags "
        "2 s, verification 30 s) plus the real time each step took.",
        "",
        "Standing and as raised. A phone that was offline sends its check-in or check-out when it is "
        "back: the late alert raised at the planned start + 15 min (or missed, no check-out, "
        "unverified) was right on what the system knew then, and the event that arrives later shows it "
        "unfounded. The product withdraws such an alert at once, automatically, with the reason "
        "(resolution `cancelled`, note `withdrawn: the check-in made at 08:05 reached the system at "
        "08:40 (sent late); the visit was not late`; an unverified verdict is judged again on what "
        "arrived and its alert withdrawn with the new verdict). The main columns count the alerts that "
        "stand once the late events are in (a withdrawn alert is neither a catch nor a false alarm; a "
        "withdrawn alert about something that did happen would lower recall); the as-raised columns "
        "count every alert ever raised, withdrawn or not: what a coordinator saw at the moment. The "
        "targets are judged on the standing figures.",
        "",
        "Targets (precision and recall >= 0.95 per outcome, late and missed within 60 s): "
        + ("all met." if not missed else "not met: " + ", ".join(missed) + "."),
        "",
        "False alarms by cause: "
        + (
            "; ".join(
                f"{k}: " + ", ".join(f"{c} ({n})" for c, n in v.items())
                for k, v in result["false_alarm_causes"].items()
            )
            or "none"
        )
        + ".",
        "",
        "Withdrawn alerts by cause: "
        + (
            "; ".join(
                f"{k}: " + ", ".join(f"{c} ({n})" for c, n in v.items())
                for k, v in result.get("withdrawn_by_cause", {}).items()
            )
            or "none"
        )
        + ".",
        "",
        "Verdicts of the verification log by what happened:",
        "",
        "| what happened | verdicts |",
        "|---|---|",
    ]
    for label, counts in result["verdicts_by_outcome"].items():
        lines.append(f"| {label} | " + ", ".join(f"{v} {n}" for v, n in sorted(counts.items())) + " |")
    return "\n".join(lines) + "\n"
