"""The benchmark harness end to end at a tiny size: every row of the speed targets is produced, with numbers.

Timings are not asserted (speed targets live in benchmarks/, measured by `make bench`); this proves the
harness runs the real code paths, including the window benchmarks that start the app in fresh processes.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from benchmarks import run

# One entry per target of the speed table (README "Speed"): the start of the row's name in RESULTS.md.
EXPECTED_ROWS = (
    "bulk ingest through the store",
    "text index rebuild after bulk ingest",
    "live sync upsert with text-index triggers",
    "re-sync of already stored messages",
    "inbox first page",
    "inbox any later page (keyset)",
    "inbox page during a sync",
    "search, newest first, LIMIT 200",
    "start-up to first painted inbox",
    "memory at first paint",
    "scroll to the end of",
    "memory after scrolling all",
    "inbox live tick,",
)
NUMBER = re.compile(r"\d[\d,]*(\.\d+)? (ms|s|MB|msg/s)")


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_harness_writes_every_row_with_figure_baseline_and_verdict(tmp_path: Path) -> None:
    """`python -m benchmarks.run -n 2000` writes RESULTS.md with each target's row: a measured figure,
    a ratio where a baseline exists, the target and met/not met, plus the machine it ran on."""
    out = tmp_path / "RESULTS.md"
    assert run.main(["-n", "2000", "--repeats", "1", "--workdir", str(tmp_path / "work"), "--out", str(out)]) == 0

    text = out.read_text(encoding="utf-8")
    assert "N = 2,000 messages" in text
    assert "Machine: " in text and "CPUs" in text
    table = {
        cells[0]: cells[1:]
        for cells in (
            [cell.strip() for cell in line.strip("|").split("|")]
            for line in text.splitlines()
            if line.startswith("| ") and not line.startswith("| path") and not line.startswith("| ---")
        )
    }
    for expected in EXPECTED_ROWS:
        matches = [path for path in table if path.startswith(expected)]
        assert matches, f"no row for {expected!r} in:\n{text}"
        figure, baseline, ratio, target, met = table[matches[0]]
        assert NUMBER.search(figure), f"{expected}: figure {figure!r} is not a measurement"
        assert target and met in ("yes", "**no**"), f"{expected}: target {target!r}, met {met!r}"
        if baseline != "-":
            assert NUMBER.search(baseline), f"{expected}: baseline {baseline!r}"
            assert re.fullmatch(r"\d+\.\d+x?", ratio), f"{expected}: ratio {ratio!r}"
