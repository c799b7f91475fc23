"""The documentation keeps up with the code: every setting is in the production table."""

from __future__ import annotations

from pathlib import Path

from kernel.settings import Settings

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_every_setting_is_documented_and_nothing_else() -> None:
    text = (DOCS / "production.md").read_text()
    lines = text.splitlines()
    rows = {line.split("`")[1] for line in lines if line.startswith("| `") and "| `TELECARE_" in line}
    assert rows == set(Settings.model_fields)
