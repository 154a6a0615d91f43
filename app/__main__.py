"""Entry point: parse the command line, build one AppContext, then start the UI or run a CLI command."""

from __future__ import annotations

import sys

from app.cli import main

if __name__ == "__main__":
    sys.exit(main())
