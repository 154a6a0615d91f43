"""The results table: figure, baseline from the same run, ratio, target, and whether it was met."""

from __future__ import annotations

import os
import platform
import statistics
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path


@dataclass(frozen=True)
class Row:
    path: str
    figure: str
    baseline: str
    ratio: str
    target: str
    met: bool
    note: str = ""


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


def median(samples: list[float]) -> float:
    return statistics.median(samples)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


def machine() -> str:
    """What the figures were measured on, including how busy it was."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        memory = f", {os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GB RAM"
    except (ValueError, OSError, AttributeError):
        memory = ""
    try:
        load = ", load average {:.1f} / {:.1f} / {:.1f} at the end".format(*os.getloadavg())
    except (OSError, AttributeError):
        load = ""
    return f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs ({cpu}){memory}{load}"


def write_results(
    path: Path, rows: list[Row], *, total: int, seconds: float, repeats: int = 1, remarks: str = ""
) -> None:
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    met = sum(row.met for row in rows)
    lines = [
        "# Benchmark results",
        "",
        f"N = {total:,} messages in {total // 5:,} conversations; run {stamp}, {seconds:.0f} s in all, "
        f"{platform.python_implementation()} {platform.python_version()}.",
        "",
        f"Machine: {machine()}.",
        "",
        f"Each figure is the median (or p95 where stated) of {repeats} or more repetitions; the baseline is the "
        "raw SQLite (or empty-database) equivalent measured in the same run, so ratios hold up better than "
        "absolute times on a busy machine. Produced by `make bench` (`make bench-quick` for 50,000 messages). "
        f"{met} of {len(rows)} targets met.",
        "",
        *([remarks, ""] if remarks else []),
        "| path | figure | baseline | ratio | target | met |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        met = "yes" if row.met else "**no**"
        lines.append(f"| {row.path} | {row.figure} | {row.baseline} | {row.ratio} | {row.target} | {met} |")
    notes = [f"- {row.path}: {row.note}" for row in rows if row.note]
    if notes:
        lines += ["", "Notes:", "", *notes]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
