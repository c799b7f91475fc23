"""The ingest benchmark's figures as a Markdown table, written into docs/scaling.md by the run that made them.

docs/scaling.md quotes no measured figure of its own: the block between the markers below is replaced
on every full run of `python -m bench.ingest`, from the same document it writes to docs/bench/ingest.json.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

BEGIN = "<!-- ingest-bench:begin (written by python -m bench.ingest; do not edit) -->"
END = "<!-- ingest-bench:end -->"


def _pair(part: dict[str, Any], key: str = "p") -> str:
    return f"{part[f'{key}50_ms']:,} / {part[f'{key}99_ms']:,} ms"


def _load(phase: dict[str, Any]) -> str:
    before = phase["load_average_before"][0]
    return f"{before} before, up to {phase['load_average_during']['max_1min']} during"


def _cpu(phase: dict[str, Any]) -> str:
    return f"{phase['main_cpu_us_per_message']} µs (lane {phase['lane_cpu_us_per_message']} µs)"


def _ok(doc: dict[str, Any], key: str) -> str:
    return "met" if doc["met"][key] else "**missed**"


def rows(doc: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(figure, this run, target) for the table."""
    lat, sat, soak = doc["latency"], doc["saturated"], doc["soak"]
    rate = f"{doc['offered_per_s']:,}/s offered"
    out = [
        (
            "sustained committed readings/s",
            f"{doc['committed_per_s']:,}",
            f"≥ 15,000: {_ok(doc, 'committed_per_s')}",
        ),
        ("bare paho subscriber on the same stream (ceiling)", f"{doc['ceiling_per_s']:,}/s", ""),
        ("ratio", str(doc["ratio"]), f"≥ 0.6: {_ok(doc, 'ratio')}"),
        (
            f"publish-to-commit p50 / p99 at {rate}",
            _pair(lat["normal"]),
            f"p99 ≤ 500 ms: {_ok(doc, 'p99_commit_ms')}",
        ),
        (
            "alarm publish-to-stored p50 / p99, same load",
            _pair(lat["alarm"]),
            f"p99 ≤ 250 ms: {_ok(doc, 'alarm_p99_ms')}",
        ),
        ("load average (1 min) in that phase", _load(lat), ""),
        (
            f"alarm p50 / p99 with {sat['cpu_hogs']} CPU-bound processes, {sat['offered_per_s']:,}/s offered",
            _pair(sat["alarm"]),
            f"p99 ≤ 500 ms: {_ok(doc, 'saturated_alarm_p99_ms')}",
        ),
        ("readings p50 / p99 in that phase", _pair(sat["normal"]), ""),
        ("load average (1 min) in that phase", _load(sat), ""),
        (
            f"soak, {soak['seconds']:.0f} s: p99 readings / alarms",
            f"{soak['normal']['p99_ms']:,} / {soak['alarm']['p99_ms']:,} ms",
            "",
        ),
        (
            "worker RSS over the soak, first → last (max)",
            f"{doc['rss_mb']['first']} → {doc['rss_mb']['last']} MB ({doc['rss_mb']['max']})",
            "",
        ),
        ("worker CPU per message: committed phase", _cpu(doc["committed_cpu"]), ""),
        ("the same: latency phase / saturated phase", f"{_cpu(lat)} / {_cpu(sat)}", ""),
    ]
    return out + _second_path(doc)


def _second_path(doc: dict[str, Any]) -> list[tuple[str, str, str]]:
    out: list[tuple[str, str, str]] = []
    pg = doc.get("plain_postgresql")
    if pg is not None and "error" in pg:
        out.append(("plain PostgreSQL pass", f"failed: {pg['error']}", ""))
    elif pg is not None:
        out += [
            (
                f"plain PostgreSQL: alarm p50 / p99 ({pg['latency']['offered_per_s']:,}/s offered)",
                _pair(pg["latency"]["alarm"]),
                f"p99 ≤ 250 ms: {_ok(pg, 'alarm_p99_ms')}",
            ),
            (
                "plain PostgreSQL: the same, saturated",
                _pair(pg["saturated"]["alarm"]),
                f"p99 ≤ 500 ms: {_ok(pg, 'saturated_alarm_p99_ms')}",
            ),
            ("load average (1 min) then", _load(pg["saturated"]), ""),
        ]
    if pg is not None and "writers" in pg:
        first, second = doc["writers"]["asyncpg_unnest"], pg["writers"]["asyncpg_unnest"]
        out.append(
            (
                "the ingest statement alone, 500-row transactions: this path / plain PostgreSQL",
                f"{first['rows_per_s']:,} / {second['rows_per_s']:,} rows/s",
                "",
            )
        )
    return out


def render(doc: dict[str, Any]) -> str:
    """The block: the run's conditions, then the table."""
    m = doc["machine"]
    head = (
        f"Run of {doc['run_at']} ({doc['mode']} mode, {doc['bench_seconds']:.0f} s): {m['cores']} cores"
        f" ({m['cpu']}, {m['memory_gb']} GB), {m['storage']}, PostgreSQL {m['postgresql'].split()[0]},"
        f" Mosquitto {m['mosquitto']}, {doc['workers']} worker(s), {doc['devices']:,} devices."
    )
    table = ["| figure | this run | target |", "| --- | --- | --- |"]
    table += [f"| {a} | {b} | {c} |" for a, b, c in rows(doc)]
    return "\n".join([BEGIN, "", head, "", *table, "", END])


def update(doc: dict[str, Any], path: Path) -> bool:
    """Replace the block in `path` (False, and nothing written, when the file has no markers)."""
    text = path.read_text()
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < start:
        return False
    path.write_text(text[:start] + render(doc) + text[end + len(END) :])
    return True
