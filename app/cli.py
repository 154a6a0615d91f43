"""Headless commands over the same services the UI uses; `parley` with no command starts the window."""

from __future__ import annotations

import argparse
import csv
import json
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from app import APP_NAME, version
from app.context import AppContext, open_context
from app.errors import KnownError
from app.paths import resolve_profile

log = logging.getLogger("app.cli")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="parley", description=f"{APP_NAME}: every customer conversation in one inbox."
    )
    parser.add_argument("--version", action="version", version=f"{APP_NAME} {version()}")
    parser.add_argument(
        "--data-dir", help="profile folder (default: the platform's user data folder; env PARLEY_DATA_DIR)"
    )
    parser.add_argument("--demo", action="store_true", help="open the built-in demo workspace (a separate profile)")
    parser.add_argument(
        "--offline",
        action="store_true",
        help="work offline: no command touches the network; one that needs it says so and exits 2",
    )
    parser.add_argument("--verbose", action="store_true", help="log debug detail to the profile's log file")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    accounts = commands.add_parser("accounts", help="add, list and remove accounts").add_subparsers(
        dest="accounts_command", metavar="ACTION", required=True
    )
    add = accounts.add_parser("add", help="add an account")
    add.add_argument("platform", choices=["mastodon", "matrix", "bluesky", "x", "reddit", "facebook", "instagram"])
    add.add_argument("--instance", help="Mastodon instance URL")
    add.add_argument("--homeserver", help="Matrix homeserver URL")
    add.add_argument("--user", help="Matrix user name")
    add.add_argument("--handle", help="Bluesky handle (the app password is read from stdin)")
    add.add_argument("--server", help="Bluesky: the account's PDS, when not hosted by Bluesky (default bsky.social)")
    add.add_argument("--name", help="a name for the account in Parley (default: its handle)")
    add.add_argument("--oauth", action="store_true", help="Mastodon: sign in through the browser instead of a token")
    add.add_argument("--page-id", help="Facebook/Instagram: the Page's id (Instagram: the Page it is linked to)")
    add.add_argument("--graph-url", help="Facebook/Instagram: the Graph API address (default: Meta's, v21.0)")
    add.add_argument(
        "--human-agent", action="store_true", help="Facebook/Instagram: the app has Meta's Human Agent permission"
    )
    add.add_argument("--client-id", help="X/Reddit: the client id of the app you registered for Parley")
    add.add_argument("--modmail", action="store_true", help="Reddit: also sync moderator mail (moderators only)")
    add.add_argument(
        "--with-secret",
        action="store_true",
        help="X/Reddit confidential (web/script) apps: read the app's secret from stdin first",
    )
    add.add_argument("--port", type=int, default=None, help="X/Reddit: the loopback port of the app's redirect")
    add.add_argument("--api-url", help=argparse.SUPPRESS)  # a proxy or test server instead of the platform
    add.add_argument("--auth-url", help=argparse.SUPPRESS)
    accounts.add_parser("list", help="list accounts and their sync state").add_argument("--json", action="store_true")
    change = accounts.add_parser("set", help="change an account's details (its department, for reports)")
    change.add_argument("name")
    change.add_argument("--department", required=True, help='the team answering this account ("" to clear)')
    remove = accounts.add_parser("remove", help="remove an account, its keyring entry and its cached data")
    remove.add_argument("name")
    remove.add_argument("--yes", action="store_true", help="do not ask for confirmation")

    sync = commands.add_parser("sync", help="fetch new messages")
    sync.add_argument("--account", help="only this account")
    sync.add_argument("--once", action="store_true", help="sync once and exit (default: keep syncing)")

    from app.cli_outbox import add_parsers as add_outbox_parsers

    add_outbox_parsers(commands)

    inbox = commands.add_parser("inbox", help="list conversations")
    inbox.add_argument("--json", action="store_true")
    inbox.add_argument("--limit", type=int, default=0, help="at most this many (0: all)")

    export = commands.add_parser("export", help="export the cache")
    export.add_argument("--format", choices=["csv", "json"], required=True)
    export.add_argument("--per", choices=["message", "conversation"], default="message", help="CSV rows")
    export.add_argument("path")

    restore = commands.add_parser(
        "restore-backup",
        help="put an automatic backup in place of the database (the current file is kept aside)",
        description="Restore the newest automatic backup, or FILE, in place of the profile's database. The "
        "current database is moved aside, never deleted. Close Parley first.",
    )
    restore.add_argument("file", nargs="?", help="a backup file (default: the newest sound one)")
    restore.add_argument("--list", action="store_true", help="list the automatic backups, newest first")

    from app.cli_playbook import add_parser as add_playbook_parser
    from app.cli_report import add_parser as add_report_parser

    add_playbook_parser(commands)
    add_report_parser(commands)

    demo_server = commands.add_parser("demo-server", help="run the seeded demo Mastodon server alone")
    demo_server.add_argument("--port", type=int, default=3000)
    demo_server.add_argument("--no-traffic", action="store_true", help="do not post new customer messages")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["_mastodon-mock"]:  # the bundled app starting its own demo server (see app.demo.server)
        from mastodon_mock.cli import main as mastodon_mock_main

        mastodon_mock_main(argv[1:])
        return 0
    args = build_parser().parse_args(argv)
    try:
        if args.command is None:
            from app.ui.launch import run_gui

            return run_gui(args)
        if args.command == "demo-server":
            from app.demo.server import serve_forever

            return serve_forever(args.port, traffic=not args.no_traffic)
        if args.command == "restore-backup":
            return _restore_backup(args)
        return _run_command(args)
    except KnownError as exc:
        # One line, like the window's start-up errors: scripts and logs read it whole.
        print(f"parley: {exc} {exc.hint}".rstrip(), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _run_command(args: argparse.Namespace) -> int:
    paths = resolve_profile(args.data_dir)
    if args.demo:
        paths = paths.demo()
    ctx = open_context(paths, demo=args.demo, offline=args.offline, verbose=args.verbose)
    try:
        handler: Callable[[AppContext, argparse.Namespace], int] = {
            "accounts": _accounts,
            "sync": _sync,
            "outbox": _outbox,
            "reply": _reply,
            "inbox": _inbox,
            "export": _export,
            "playbook": _playbook,
            "report": _report,
        }[args.command]
        return handler(ctx, args)
    finally:
        ctx.close()


def _restore_backup(args: argparse.Namespace) -> int:
    """Works without opening the database: it is the way out when the database cannot be opened."""
    from app.logs import configure_logging
    from app.store.backups import describe_backups, restore_backup

    paths = resolve_profile(args.data_dir)
    if args.demo:
        paths = paths.demo()
    if args.list:
        found = describe_backups(paths.backups)
        if not found:
            print(f"parley: there are no automatic backups in {paths.backups} yet.", file=sys.stderr)
            return 1
        for info in found:
            taken = info.taken_at.strftime("%Y-%m-%d %H:%M UTC") if info.taken_at else "?"
            print(f"{info.path.name}\t{taken}\t{info.size / 1e6:.1f} MB\t{info.reason}")
        return 0
    if paths.root.is_dir():
        configure_logging(paths.log_file)
    restored = restore_backup(paths.database, paths.backups, Path(args.file) if args.file else None)
    kept = f" The previous database is kept as {restored.damaged_kept_as}." if restored.damaged_kept_as else ""
    print(f"Restored the backup {restored.backup.name}.{kept}", file=sys.stderr)
    return 0


def _accounts(ctx: AppContext, args: argparse.Namespace) -> int:
    from app.sync import account_service

    if args.accounts_command == "list":
        rows = account_service.describe_accounts(ctx)
        if args.json:
            print(json.dumps(rows, indent=2, default=str))
        else:
            for row in rows:
                print(f"{row['name']}\t{row['platform']}\t{row['handle']}\t{row['state']}\t{row['last_synced']}")
        return 0
    if args.accounts_command == "set":
        from app.store import accounts as account_store

        account = account_store.find_account(ctx.engine, args.name)
        account_store.set_option(ctx.engine, account.id, "department", args.department.strip())
        shown = args.department.strip() or "none"
        print(f"{account.name}: department {shown}.", file=sys.stderr)
        return 0
    if args.accounts_command == "remove":
        if not args.yes and not _confirm(f"Remove {args.name} and its cached conversations? [y/N] "):
            print("parley: nothing removed.", file=sys.stderr)
            return 1
        removal = account_service.remove_account(ctx, args.name)
        print(removal.summary(), file=sys.stderr)
        return 0
    return account_service.add_account_from_cli(ctx, args)


def _confirm(question: str) -> bool:
    if not sys.stdin.isatty():
        return False
    return input(question).strip().lower() in {"y", "yes"}


def _sync(ctx: AppContext, args: argparse.Namespace) -> int:
    from app.sync.cli_sync import run_sync

    return run_sync(ctx, account_name=args.account, once=args.once)


def _outbox(ctx: AppContext, args: argparse.Namespace) -> int:
    from app.cli_outbox import run_outbox

    return run_outbox(ctx, args)


def _reply(ctx: AppContext, args: argparse.Namespace) -> int:
    from app.cli_outbox import run_reply

    return run_reply(ctx, args)


def _playbook(ctx: AppContext, args: argparse.Namespace) -> int:
    from app.cli_playbook import run

    return run(ctx, args)


def _report(ctx: AppContext, args: argparse.Namespace) -> int:
    from app.cli_report import run

    return run(ctx, args)


def _inbox(ctx: AppContext, args: argparse.Namespace) -> int:
    from app.store import inbox

    rows = inbox.inbox_page(ctx.engine, limit=args.limit or 10**9)
    items = [_conversation_json(ctx, row) for row in rows]
    if args.json:
        print(json.dumps(items, indent=2, ensure_ascii=False))
    else:
        for item in items:
            latest = item["latest_message"]
            print(
                f"{item['id']}\t{item['platform']}\t{item['account']}\t{item['status']}\t"
                f"{item['contact']}\t{latest['text'][:60] if latest else ''}"
            )
    return 0


def _conversation_json(ctx: AppContext, row: Any) -> dict[str, Any]:
    from app.store import inbox

    messages = inbox.thread(ctx.engine, row.id)
    latest = messages[-1] if messages else None
    return {
        "id": row.id,
        "account": row.account_name,
        "platform": row.platform.value,
        "kind": row.kind.value,
        "status": row.status.value,
        "contact": row.contact_handle,
        "unread": row.unread_count,
        "tags": list(row.tags),
        "last_message_at": row.last_message_at.isoformat(),
        "latest_message": None if latest is None else _message_json(latest),
    }


def _message_json(message: Any) -> dict[str, Any]:
    return {
        "id": message.id,
        "platform_message_id": message.platform_message_id,
        "direction": message.direction.value,
        "author": message.author_handle,
        "created_at": message.created_at.isoformat(),
        "text": message.text,
    }


def _export(ctx: AppContext, args: argparse.Namespace) -> int:
    from app.store import inbox

    rows = inbox.inbox_page(ctx.engine, limit=10**9)
    target = Path(args.path)
    if args.format == "json":
        data = []
        for row in rows:
            item = _conversation_json(ctx, row)
            item["messages"] = [_message_json(m) for m in inbox.thread(ctx.engine, row.id)]
            data.append(item)
        target.write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")
    else:
        with target.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            if args.per == "conversation":
                writer.writerow(
                    [
                        "conversation_id",
                        "account",
                        "platform",
                        "status",
                        "contact",
                        "messages",
                        "last_message_at",
                        "snippet",
                    ]
                )
                for row in rows:
                    writer.writerow(
                        [
                            row.id,
                            row.account_name,
                            row.platform.value,
                            row.status.value,
                            row.contact_handle,
                            row.message_count,
                            row.last_message_at.isoformat(),
                            row.snippet,
                        ]
                    )
            else:
                writer.writerow(
                    [
                        "conversation_id",
                        "account",
                        "platform",
                        "message_id",
                        "direction",
                        "author",
                        "created_at",
                        "text",
                    ]
                )
                for row in rows:
                    for message in inbox.thread(ctx.engine, row.id):
                        writer.writerow(
                            [
                                row.id,
                                row.account_name,
                                row.platform.value,
                                message.platform_message_id,
                                message.direction.value,
                                message.author_handle,
                                message.created_at.isoformat(),
                                message.text,
                            ]
                        )
    print(f"Exported {len(rows)} conversations to {target}.", file=sys.stderr)
    return 0
