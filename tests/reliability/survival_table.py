"""The README's "What Parley survives" table, made from the reliability suite's last recorded run.

python -m pytest tests/reliability                        # records every fault and its outcome
python -m tests.reliability.survival_table                # prints the Markdown table
python -m tests.reliability.survival_table --readme README.md   # replaces the README section
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import textwrap
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
RESULTS_ENV = "PARLEY_SURVIVAL_JSON"
HEADING = "## What Parley survives"
AREA_ORDER = (
    "Malformed platform data",
    "Network faults",
    "Process faults",
    "Storage faults",
    "Secrets",
    "Untrusted content",
    "Load",
)
_RESULT = {"passed": "survives", "failed": "**FAILS**", "skipped": "not run"}


def results_path() -> Path:
    """Where the suite records its outcomes: build/reliability-results.json, or $PARLEY_SURVIVAL_JSON."""
    return Path(os.environ.get(RESULTS_ENV) or ROOT / "build" / "reliability-results.json")


def load(path: Path) -> list[dict[str, Any]]:
    return list(json.loads(path.read_text(encoding="utf-8"))["tests"])


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _order(entry: dict[str, Any]) -> tuple[int, str, int]:
    area = entry.get("area", "")
    rank = AREA_ORDER.index(area) if area in AREA_ORDER else len(AREA_ORDER)
    return rank, entry["nodeid"].split("::")[0], entry.get("position", 0)


def _sentence(text: str) -> str:
    text = _cell(text)
    return text[:1].upper() + text[1:]


def markdown(entries: list[dict[str, Any]]) -> str:
    entries = sorted(entries, key=_order)
    survived = sum(1 for e in entries if e["outcome"] == "passed")
    intro = (
        f"Each row is one fault that `tests/reliability/` injects into the real app, and what the app does about "
        f"it. {survived} of {len(entries)} faults survived in the last run. The table is generated from that "
        "run: `python -m pytest tests/reliability` records the outcomes, "
        "`python -m tests.reliability.survival_table --readme README.md` rewrites this section."
    )
    lines = [
        HEADING,
        "",
        textwrap.fill(intro, width=110, break_on_hyphens=False, break_long_words=False),
        "",
        "| Area | Fault injected | What Parley does | Result |",
        "| --- | --- | --- | --- |",
    ]
    for entry in entries:
        result = _RESULT.get(entry["outcome"], entry["outcome"])
        if entry["outcome"] == "skipped" and entry.get("reason"):
            result += f" ({_cell(entry['reason'])})"
        lines.append(
            f"| {_cell(entry['area'])} | {_sentence(entry['fault'])} | {_sentence(entry['survives'])} | {result} |"
        )
    return "\n".join(lines) + "\n"


def replace_section(readme: str, section: str) -> str:
    """`readme` with its "What Parley survives" section (up to the next level-2 heading) replaced; a README
    without one gets it before its Development section, or at the end."""
    lines = readme.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.rstrip() == HEADING), None)
    if start is None:
        development = next((i for i, line in enumerate(lines) if line.rstrip() == "## Development"), None)
        if development is None:
            return readme.rstrip("\n") + "\n\n" + section
        return "".join(lines[:development]) + section + "\n" + "".join(lines[development:])
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    tail = "".join(lines[end:])
    return "".join(lines[:start]) + section + ("\n" + tail if tail else "")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=results_path(), help="the recorded run (JSON)")
    parser.add_argument("--readme", type=Path, help="rewrite this README's section instead of printing")
    args = parser.parse_args(argv)
    if not args.results.exists():
        print(f"No recorded run at {args.results}: run `python -m pytest tests/reliability` first.", file=sys.stderr)
        return 2
    section = markdown(load(args.results))
    if args.readme is None:
        sys.stdout.write(section)
        return 0
    readme = args.readme if args.readme.is_absolute() else Path.cwd() / args.readme
    readme.write_text(replace_section(readme.read_text(encoding="utf-8"), section), encoding="utf-8")
    print(f"Rewrote the '{HEADING[3:]}' section of {args.readme}.", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
