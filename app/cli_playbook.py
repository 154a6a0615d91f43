"""`parley playbook export FILE` and `parley playbook import FILE [--theirs|--mine]`: the shared YAML file."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from app.context import AppContext

EXIT_CONFLICTS = 1


def add_parser(commands: Any) -> None:
    playbook = commands.add_parser("playbook", help="export or import the team's playbook (a YAML file)")
    actions = playbook.add_subparsers(dest="playbook_command", metavar="ACTION", required=True)
    export = actions.add_parser("export", help="write every answer to FILE (one YAML document per answer)")
    export.add_argument("file")
    merge = actions.add_parser(
        "import",
        help="merge FILE by uid: new answers are added; conflicts are reported and nothing changes "
        "unless --theirs or --mine says how to settle them",
    )
    merge.add_argument("file")
    choice = merge.add_mutually_exclusive_group()
    choice.add_argument("--theirs", action="store_true", help="settle every conflict with the file's version")
    choice.add_argument("--mine", action="store_true", help="settle every conflict by keeping this profile's version")


def run(ctx: AppContext, args: argparse.Namespace) -> int:
    from app.store.playbook import Choice, apply_import, plan_import
    from app.store.playbook_file import export_playbook, read_playbook

    path = Path(args.file)
    if args.playbook_command == "export":
        count = export_playbook(ctx.engine, path)
        print(f"Exported {count} answers to {path}.", file=sys.stderr)
        return 0
    plan = plan_import(ctx.engine, read_playbook(path))
    settle = Choice.THEIRS if args.theirs else Choice.MINE if args.mine else None
    if plan.conflicts and settle is None:
        print(f"parley: {path.name}: {plan.summary()}.", file=sys.stderr)
        for conflict in plan.conflicts:
            print(
                f"  {conflict.uid}  “{conflict.mine.title}” differs in: {', '.join(conflict.fields)}", file=sys.stderr
            )
        print(
            "Nothing was changed. Run again with --theirs to take the file's versions or --mine to keep yours.",
            file=sys.stderr,
        )
        return EXIT_CONFLICTS
    result = apply_import(ctx.engine, plan, {conflict.uid: settle for conflict in plan.conflicts if settle})
    print(
        f"Imported {path.name}: {result.added} added, {result.replaced} updated from the file, "
        f"{result.kept} kept as they were, {result.unchanged} already the same.",
        file=sys.stderr,
    )
    return 0
