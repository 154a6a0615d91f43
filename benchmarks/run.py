"""Parley's benchmarks: the app's own code paths at scale, each against a raw-SQLite baseline from the same run.

python -m benchmarks.run            # 1,000,000 messages in 200,000 conversations
python -m benchmarks.run --quick    # 50,000 messages, for development and CI's smoke test
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
    args = parser.parse_args(argv)
    total = args.n or (QUICK_N if args.quick else DEFAULT_N)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="parley-bench-") as scratch:
        workdir = args.workdir or Path(scratch)
        workdir.mkdir(parents=True, exist_ok=True)
        rows: list[Row] = store_benchmarks.run_all(total, workdir, log=_log)
        if not args.skip_gui:
            from benchmarks import gui_benchmarks

            rows += gui_benchmarks.run_all(total, workdir, log=_log)
    write_results(args.out, rows, total=total, seconds=time.perf_counter() - started)
    _log(f"wrote {args.out}")
    return 0


def _log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
