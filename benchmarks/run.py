"""Parley's benchmarks: the app's own code paths at scale, each against a raw-SQLite baseline from the same run.

python -m benchmarks.run            # 1,000,000 messages in 200,000 conversations
python -m benchmarks.run --quick    # 50,000 messages, for development
python -m benchmarks.run -n 2000    # any size (CI's smoke test runs a tiny one)

Writes benchmarks/RESULTS.md (or --out): every figure with its baseline from the same run, the ratio, the
target and whether it was met. Window benchmarks run the real app in fresh processes on the offscreen
platform unless QT_QPA_PLATFORM says otherwise.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from benchmarks import store_benchmarks
from benchmarks.report import Row, write_results

DEFAULT_N = 1_000_000
QUICK_N = 50_000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_N:,} messages instead of {DEFAULT_N:,}")
    parser.add_argument("-n", type=int, help="number of messages (overrides --quick)")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "RESULTS.md")
    parser.add_argument("--workdir", type=Path, help="where to build the databases (default: a temporary folder)")
    parser.add_argument("--skip-gui", action="store_true", help="only the store benchmarks")
    parser.add_argument("--note", default="", help="a remark for RESULTS.md (e.g. that the machine was busy)")
    parser.add_argument("--repeats", type=int, help="repetitions of each timed step (default: 3 quick, 5 full)")
    args = parser.parse_args(argv)
    total = args.n or (QUICK_N if args.quick else DEFAULT_N)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="parley-bench-") as scratch:
        workdir = args.workdir or Path(scratch)
        workdir.mkdir(parents=True, exist_ok=True)
        repeats = args.repeats or (3 if args.quick or total < DEFAULT_N else 5)
        database = workdir / "bench.sqlite3"
        rows: list[Row] = store_benchmarks.run_all(total, workdir, log=_log, database=database, repeats=repeats)
        if not args.skip_gui:
            from benchmarks import gui_benchmarks

            rows += gui_benchmarks.run_all(total, workdir, log=_log, database=database, repeats=repeats)
    seconds = time.perf_counter() - started
    write_results(args.out, rows, total=total, seconds=seconds, repeats=repeats, remarks=args.note)
    _log(f"wrote {args.out}")
    return 0


def _log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
