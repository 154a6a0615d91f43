"""The results table: figure, baseline from the same run, ratio, target, and whether it was met."""

from __future__ import annotations

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


def write_results(path: Path, rows: list[Row], *, total: int, seconds: float) -> None:
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "# Benchmark results",
        "",
        f"{total:,} messages in {total // 5:,} conversations; run {stamp} on {platform.machine()} "
        f"({platform.python_implementation()} {platform.python_version()}), {seconds:.0f} s in all. "
        "Each figure is the median (or p95 where stated) of several repetitions; the baseline is the raw "
        "SQLite (or empty-database) equivalent measured in the same run. Produced by `make bench`.",
        "",
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
