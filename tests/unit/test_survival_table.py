"""The README's "What Parley survives" table: rows from recorded outcomes, and only its own section rewritten."""

from __future__ import annotations

from tests.reliability.survival_table import HEADING, markdown, replace_section

ENTRIES = [
    {"nodeid": "tests/reliability/test_b.py::t", "area": "Load", "fault": "a | pipe", "survives": "ok",
     "outcome": "passed"},
    {"nodeid": "tests/reliability/test_a.py::t", "area": "Network faults", "fault": "reset", "survives": "retried",
     "outcome": "failed"},
    {"nodeid": "tests/reliability/test_c.py::t", "area": "Secrets", "fault": "locked", "survives": "says so",
     "outcome": "skipped", "reason": "no keyring"},
]  # fmt: skip


def test_rows_follow_the_areas_order_escape_pipes_and_say_what_failed_or_did_not_run() -> None:
    table = markdown(ENTRIES)
    rows = [line for line in table.splitlines() if line.startswith("| ") and "---" not in line][1:]
    assert [row.split(" | ")[0] for row in rows] == ["| Network faults", "| Secrets", "| Load"]
    assert "A \\| pipe" in rows[2] and rows[0].endswith("| **FAILS** |")
    assert rows[1].endswith("| not run (no keyring) |")
    assert "1 of 3 faults survived" in table.replace("\n", " ")


def test_only_the_survival_section_is_replaced_and_a_missing_one_goes_before_development() -> None:
    section = f"{HEADING}\n\nnew table\n"
    head, tail = "# Parley\n\n## Speed\n\nfast\n\n", "## Development\n\nmake test\n"
    expected = f"{head}{section}\n{tail}"
    assert replace_section(f"{head}{HEADING}\n\nold table\n\n{tail}", section) == expected
    assert replace_section(f"{head}{tail}", section) == expected
    assert replace_section("# Parley\n", section) == f"# Parley\n\n{section}"
