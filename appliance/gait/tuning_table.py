"""The README's tuning table, generated from the fields of appliance/gait/tuning.py and of the foot
stage's appliance/feet/tuning.py.

    .venv/bin/python -m appliance.gait.tuning_table                 # print the table
    .venv/bin/python -m appliance.gait.tuning_table --write-readme  # rewrite it in README.md
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import fields
from pathlib import Path
from typing import Any

from appliance.feet.tuning import FEET_TUNING, FeetTuning
from appliance.gait.tuning import GAIT_TUNING, GaitTuning

README = Path(__file__).resolve().parents[2] / "README.md"
BEGIN, END = "<!-- gait-tuning:begin -->", "<!-- gait-tuning:end -->"


def _shown(value: Any) -> str:
    if isinstance(value, tuple):
        return " to ".join(f"{v:g}" for v in value)
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def parameter_table(tuning: GaitTuning = GAIT_TUNING, feet: FeetTuning = FEET_TUNING) -> str:
    """The tuning as a markdown table: section, name, value, unit, why, source (the foot stage's
    sections prefixed ``feet.``)."""
    rows = ["| section | name | value | unit | why | source |", "|---|---|---|---|---|---|"]
    for prefix, whole in (("", tuning), ("feet.", feet)):
        for section in fields(whole):
            part = getattr(whole, section.name)
            for f in fields(part):
                m = f.metadata
                cells = (prefix + section.name, f"`{f.name}`", _shown(getattr(part, f.name)), m["unit"], m["why"],
                         m["source"])
                rows.append("| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |")
    return "\n".join(rows) + "\n"


def readme_block(tuning: GaitTuning = GAIT_TUNING, feet: FeetTuning = FEET_TUNING) -> str:
    """The README block between the markers, generated from the fields."""
    return f"{BEGIN}\n{parameter_table(tuning, feet)}{END}"


def with_readme_block(text: str, tuning: GaitTuning = GAIT_TUNING, feet: FeetTuning = FEET_TUNING) -> str:
    """``text`` (the README) with the block between the markers replaced by the generated one."""
    start, end = text.index(BEGIN), text.index(END) + len(END)
    return text[:start] + readme_block(tuning, feet) + text[end:]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="The gait and foot stage tuning parameters as a markdown table.")
    ap.add_argument("--write-readme", action="store_true", help=f"rewrite the block between the markers in {README}")
    args = ap.parse_args(argv)
    if not args.write_readme:
        sys.stdout.write(parameter_table())
        return 0
    text = README.read_text()
    updated = with_readme_block(text)
    if updated != text:
        README.write_text(updated)
    print(f"{README}: gait tuning table {'rewritten' if updated != text else 'already current'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
