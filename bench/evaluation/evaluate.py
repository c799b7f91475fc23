"""`make eval`: the detector over simulated homes with injected incidents, scored against ground truth.

Writes docs/eval/detection.json and docs/eval/detection.md.
Run: python -m bench.evaluation.evaluate [--homes N]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import time
from datetime import date
from pathlib import Path
from typing import Any

import orjson

from anomaly.config import DetectorConfig
from bench.evaluation.evaluation import HomeRun, HomeSpec, run_home
from bench.evaluation.scoring import LEARNED, summarise

DOCS = Path(__file__).resolve().parents[2] / "docs"
LAYOUTS = {
    "active": ("flat", "house", "bungalow"),
    "frail": ("bungalow", "flat", "house"),
    "dementia": ("house", "bungalow", "flat"),
}
PROFILES = ("active", "frail", "dementia")


def specs(homes: int, days: int, rate: float) -> list[HomeSpec]:
    """A mix of profiles and layouts, one seed each."""
    out = []
    for index in range(homes):
        profile = PROFILES[index % 3]
        layout = LAYOUTS[profile][(index // 3) % 3]
        out.append(HomeSpec(1000 + index, profile, layout, date(2025, 1, 6), days, rate))
    return out


def _one(spec: HomeSpec) -> HomeRun:
    return run_home(spec, DetectorConfig())


def run(homes: int, days: int, rate: float, learn_days: int) -> dict[str, Any]:
    """Simulate, detect and score; returns the JSON report."""
    started = time.monotonic()
    jobs = specs(homes, days, rate)
    with multiprocessing.Pool(max(1, min(2, os.cpu_count() or 1))) as pool:
        runs = pool.map(_one, jobs, chunksize=1)
    summary = summarise(runs, learn_days)
    readings = sum(r.readings for r in runs)
    elapsed = time.monotonic() - started
    by_profile = {
        p: summarise([r for r in runs if r.profile == p], learn_days)["kinds"]["learned_total"]
        for p in PROFILES
    }
    return {
        "setup": {
            "homes": homes,
            "profiles": {p: sum(1 for s in jobs if s.profile == p) for p in PROFILES},
            "days": days,
            "learning_days": learn_days,
            "incident_rate_per_day": rate,
            "scored_home_weeks": summary["home_weeks"],
            "readings": readings,
            "seconds": round(elapsed, 1),
            "readings_per_s_with_simulation": round(readings / elapsed),
        },
        "kinds": summary["kinds"],
        # The headline figure, also at the top level where a reader looks first.
        "learned_total": summary["kinds"]["learned_total"],
        "learned_total_by_profile": by_profile,
    }


def _fmt(value: Any, seconds: bool = False) -> str:
    if value is None:
        return "–"
    if seconds:
        return f"{value / 60:.0f} min" if value >= 120 else f"{value:.0f} s"
    return f"{value:.2f}" if isinstance(value, float) else str(value)


def markdown(report: dict[str, Any]) -> str:
    """The report for people."""
    setup = report["setup"]
    lines = [
        "# Detection: evaluation against simulated ground truth",
        "",
        f"Made by `make eval` (`python -m bench.evaluation.evaluate`): {setup['homes']} simulated homes "
        f"({', '.join(f'{n} {p}' for p, n in setup['profiles'].items())}), {setup['days']} days each, "
        f"random incidents at {setup['incident_rate_per_day']} a day per home. The first "
        f"{setup['learning_days']} days are for learning and are not scored; "
        f"{setup['scored_home_weeks']} home-weeks are scored. {setup['readings']} readings took "
        f"{setup['seconds']} s including the simulation. The pure detector runs in-process over each "
        "home's messages in publish order (duplicates dropped, device clocks as sent, late deliveries "
        "late), with the ingest worker's own device-health fold and a clock tick every simulated minute.",
        "",
        "| alert kind | labels | caught | recall | alerts | precision | false alarms / home-week | "
        "median delay | p95 delay | median beyond normal |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for kind, k in report["kinds"].items():
        lines.append(
            f"| {'**' + kind + '**' if kind == 'learned_total' else kind} | {k['labels']} | {k['caught']} | "
            f"{_fmt(k['recall'])} | {k['alerts']} | {_fmt(k['precision'])} | "
            f"{_fmt(k['false_alarms_per_home_week'])} | {_fmt(k['median_delay_s'], True)} | "
            f"{_fmt(k['p95_delay_s'], True)} | {_fmt(k['median_beyond_normal_s'], True)} |"
        )
    lines += ["", "Learned detectors together, by profile:", ""]
    lines += ["| profile | recall | alerts | false alarms / home-week |", "|---|---:|---:|---:|"]
    for profile, k in report["learned_total_by_profile"].items():
        lines.append(
            f"| {profile} | {_fmt(k['recall'])} | {k['alerts']} | {_fmt(k['false_alarms_per_home_week'])} |"
        )
    lines += [
        "",
        "## Time to a stored alert",
        "",
        "Not measured by this run: the pure detector runs in-process here, with no database. The time "
        "from an alarm reading's commit to its stored alert, under a writer's load, is measured by "
        "`make bench` (`python -m bench.detector`) and written, with the rate it achieved, its arguments "
        "and the machine's load, to docs/bench/detector.json.",
    ]
    lines += ["", NOTES.format(learned=", ".join(LEARNED))]
    return "\n".join(lines) + "\n"


NOTES = """## How to read it

- *Recall*: labelled incidents (after the learning days) with an alert of the matching kind raised from
  5 minutes before the label's start (device clocks may be minutes off) to 15 minutes after its end
  (cold: from 6 h before, since one room gets cold before the whole house; offline: up to 1 h after).
  `fall_cancelled` counts only if the fall alert was resolved as cancelled by the wearer.
- *Precision*: alerts that answer their own label, or another real incident that can cause them, over
  all alerts; `precision_own_label` in the JSON counts only the alert's own label. What can cause what
  is `bench.evaluation.scoring.CAUSES`: a fall or a long stay in bed or in the bathroom is also a
  quiet home; an
  offline motion, bed or chair sensor can hide the resident (an offline smart plug or thermometer
  cannot); of the devices only the bed sensor can make "not up"; a long bathroom stay can come from a
  fall in the bathroom or from the motion sensor of another room going offline; a low battery can take
  only its own device offline. An alert about a device (offline, battery, alarm, fall, smoke, water)
  answers only a label of that device. *False alarms* are the rest.
- *Delay*: from the label's start to the moment the detector decided. *Beyond normal* (inactivity and
  not up): from the end of what is normal for this home (its usual longest quiet spell at that hour; the
  latest usual getting-up time) to the alert.
- *unusual_day* has no label of its own: a flagged day counts as true when it had a behavioural
  incident ({learned} and falls), and its recall is the share of such days flagged; it is a summary for
  the care team the next morning, not an alarm.
- The learned total adds up {learned}.

## What limits these figures

- The simulator is the only ground truth: its residents are more regular than real people, its sensors
  never miss a movement, and a label's start is exact. Real homes will have more false alarms.
- Alarm buttons, falls, smoke and water are caught from one reading each, so their recall is that of
  delivery; how fast their alerts are stored (docs/bench/detector.json) is the real measure for them.
- Quiet spells shorter than the learned limit are not reported: a short incident (or one a carer's
  arrival ends early) can finish before the home's normal is exceeded, and is then missed by design.
- A resident lying in bed is never "inactive"; a long lie-in is the not-up detector's job, and a fall
  beside the bed is found by the wrist detector, not by silence.
"""


def main() -> None:
    """Command line entry: run the evaluation and write the JSON and markdown reports."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--homes", type=int, default=54)
    parser.add_argument("--days", type=int, default=70)
    parser.add_argument("--rate", type=float, default=0.3)
    parser.add_argument("--learn-days", type=int, default=14)
    parser.add_argument("--out", type=Path, default=DOCS / "eval")
    args = parser.parse_args()
    report = run(args.homes, args.days, args.rate, args.learn_days)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "detection.json").write_bytes(orjson.dumps(report, option=orjson.OPT_INDENT_2) + b"\n")
    (args.out / "detection.md").write_text(markdown(report))
    total = report["kinds"]["learned_total"]
    print(f"learned: recall {total['recall']}, false alarms/home-week {total['false_alarms_per_home_week']}")


if __name__ == "__main__":
    main()
