"""Report tables as CSV files: one file per table (summary, heatmap, trend), and reading one back."""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from pathlib import Path

from app.errors import StoreError


def write_csv_tables(folder: Path, tables: Mapping[str, Sequence[Sequence[str]]]) -> list[Path]:
    """Write `<name>.csv` for every table into `folder` (created when missing); returns the files written."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        written = []
        for name, rows in tables.items():
            target = folder / f"{name}.csv"
            temporary = target.with_suffix(".csv.tmp")
            with temporary.open("w", newline="", encoding="utf-8") as handle:
                csv.writer(handle).writerows(rows)
            temporary.replace(target)  # a reader never sees half a file
            written.append(target)
    except OSError as exc:
        raise StoreError(
            f"Could not write the report to {folder}: {exc.strerror or exc}.", hint="Choose a folder you can write to."
        ) from exc
    return written


def read_csv_table(path: Path) -> list[list[str]]:
    """A table written by `write_csv_tables`, header first; a ragged or unreadable file is refused."""
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.reader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise StoreError(f"Could not read {path.name}: {exc}.") from exc
    widths = {len(row) for row in rows}
    if len(widths) > 1:
        raise StoreError(f"{path.name} is not a report table: its rows have {sorted(widths)} cells.")
    return rows
