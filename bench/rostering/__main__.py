"""Rostering benchmarks (`make bench`, `python -m bench.rostering`): writes docs/bench/rostering.json.

Both parts are CPU-bound; the machine is shared, so the load average (what `uptime` prints) is recorded
before and after each part, beside the figures.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import orjson

from bench.rostering import homecare, solomon

OUT = Path(__file__).resolve().parents[2] / "docs" / "bench" / "rostering.json"


def _load() -> dict[str, object]:
    """The load averages, and `uptime`'s own line as the shared machine showed it."""
    line = subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()
    return {"load_1_5_15m": [round(x, 2) for x in os.getloadavg()], "uptime": line}


def main() -> None:
    """Run the Solomon and home-care benchmarks and write their JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--solomon-s", type=float, default=30.0, help="time limit per Solomon instance")
    parser.add_argument("--day-s", type=float, default=55.0, help="solver time of the home-care day")
    parser.add_argument("--skip-solomon", action="store_true")
    args = parser.parse_args()
    doc: dict[str, object] = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "shared": True},
        "load_before": _load(),
    }
    if not args.skip_solomon:
        print("== Solomon VRPTW", flush=True)
        doc["solomon"] = solomon.run(args.solomon_s)
        doc["load_after_solomon"] = _load()
    elif OUT.exists():
        # The Solomon part does not touch rostering/ (PyVRP on the instances alone): its last figures stay.
        before = orjson.loads(OUT.read_bytes())
        if "solomon" in before:
            carried = before["solomon"].get("carried_over_from", before.get("when"))
            doc["solomon"] = {**before["solomon"], "carried_over_from": carried}
            if "load_after_solomon" in before:
                doc["load_after_solomon"] = before["load_after_solomon"]
    print("== home-care day", flush=True)
    doc["home_care_day"] = homecare.run(args.day_s)
    doc["load_after"] = _load()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_bytes(orjson.dumps(doc, option=orjson.OPT_INDENT_2) + b"\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
