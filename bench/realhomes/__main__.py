"""`make eval` (real homes): the detector over four real homes' logs, clean and with injected incidents.

Each home's log is replayed through the same path as `telecare replay` (the TL log read by
simulators/replay.py, the detector on one virtual clock by anomaly/virtual.py); the clean logs also go
through the real broker, ingest, database and detector service on one virtual clock
(bench/realhomes/through.py), which must decide the same alerts. The clean replay gives
the false alarms on real behaviour; replays with incidents injected on days after the first week give
recall and delay. Writes docs/eval/real_homes.json and the real-homes section of docs/eval/detection.md;
skips itself, saying why, when the data is absent. Run: python -m bench.realhomes
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

import orjson

from bench.realhomes import through
from bench.realhomes.homes import ENV, data_dir
from bench.realhomes.report import DOCS, evaluate, write


def main() -> int:
    """Command line entry: evaluate and write the reports (or say why not)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--variants", type=int, default=6, help="injected replays per home")
    parser.add_argument("--out", type=Path, default=DOCS)
    parser.add_argument(
        "--through-ingest",
        choices=("clean", "incidents", "none"),
        default="clean",
        help="also replay each home's clean log (default; 'incidents': and one with incidents) through "
        "broker, ingest and database, or not",
    )
    args = parser.parse_args()
    folder = data_dir()
    if folder is None:
        print(
            "real homes: skipped, the research data is not here (../shared/dev-data/real-homes beside the "
            f"repository, or ${ENV}); docs/eval/real_homes.json is left as it was"
        )
        return 0
    started = time.monotonic()
    report = evaluate(folder, args.variants)
    report["setup"]["seconds"] = round(time.monotonic() - started, 1)
    if args.through_ingest != "none":
        incidents = args.through_ingest == "incidents"
        report["through_ingest"] = asyncio.run(through.compare_all(folder, with_incidents=incidents))
    write(report, args.out)
    if "through_ingest" in report:
        through.write_section(report["through_ingest"], args.out / "detection.md")
        same = report["through_ingest"]["same_decisions_in_every_home"]
        print(f"real homes through ingest: the same alerts as the fast path in every home: {same}")
    total = report["total"]
    print(
        f"real homes: false alarms/home-week {total['false_alarms_per_home_week']}, recall "
        f"{orjson.dumps(total['recall']).decode()}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
