"""`parley reply` and `parley outbox list|approve|send`: writing, reviewing and sending replies without the window."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from app.context import AppContext
from app.domain.outbox import OutboxItem, OutboxRuleError, OutboxState
from app.errors import KnownError

EXIT_NOT_SENT = 1
APPROVABLE = (OutboxState.DRAFT, OutboxState.AWAITING_REVIEW)


class OutboxCommandError(KnownError):
    """A reply or review the outbox refuses (empty text, unknown answer, the review rule, working offline)."""


def add_parsers(commands: Any) -> None:
    reply = commands.add_parser(
        "reply",
        help="answer a conversation: sent now, or queued for review with --queue",
        description="Answer a conversation (its id from `parley inbox`). The reply is sent now; with --queue "
        "it waits in the outbox for review. With --offline it waits in the outbox, approved, until "
        "`parley outbox send` runs online. With the review rule on, a public reply always waits for a reviewer.",
    )
    reply.add_argument("conversation_id", type=int, metavar="CONVERSATION_ID")
    text = reply.add_mutually_exclusive_group(required=True)
    text.add_argument("--text", help="the reply's text")
    text.add_argument("--playbook", metavar="KEYWORD", help="the playbook answer with this shortcut, filled in")
    reply.add_argument(
        "--answer", action="append", default=[], metavar="FIELD=VALUE", help="a value for a field the answer asks for"
    )
    reply.add_argument("--queue", action="store_true", help="queue the reply for review instead of sending it")

    outbox = commands.add_parser("outbox", help="the queue of replies").add_subparsers(
        dest="outbox_command", metavar="ACTION", required=True
    )
    send = outbox.add_parser("send", help="send the approved replies now (exit 1 if any failed)")
    send.add_argument("--account", help="only this account's replies")
    listing = outbox.add_parser("list", help="the replies not yet sent, in queue order, with their state")
    listing.add_argument("--json", action="store_true")
    approve = outbox.add_parser("approve", help="approve replies by id, or every one waiting with --all")
    approve.add_argument("ids", nargs="*", type=int, default=[], metavar="ID")
    approve.add_argument("--all", action="store_true", help="every draft and reply awaiting review")
    approve.add_argument("--reviewer", help="who approves (default: your name from the settings)")


def run_reply(ctx: AppContext, args: argparse.Namespace) -> int:
    from app.store import outbox

    body = args.text if args.text is not None else _render_playbook(ctx, args)
    needs_review = ctx.preferences.public_replies_need_review and outbox.is_public(ctx.engine, args.conversation_id)
    state = OutboxState.AWAITING_REVIEW if (args.queue or needs_review) else OutboxState.APPROVED
    try:
        item = outbox.queue_reply(
            ctx.engine, args.conversation_id, body, now=ctx.clock.now(), state=state,
            author=ctx.preferences.agent_name,
        )  # fmt: skip
    except OutboxRuleError as exc:
        raise OutboxCommandError(str(exc)) from None
    print(item.id)
    if state is OutboxState.AWAITING_REVIEW:
        why = "" if args.queue else " (public replies need a reviewer)"
        _say(f"Reply {item.id} waits in the outbox for review{why}: `parley outbox approve {item.id}`.")
        return 0
    if ctx.offline:
        _say(f"Working offline: reply {item.id} is in the outbox and goes out with `parley outbox send` online.")
        return 0
    from app.sync.sender import OutboxSender

    report = OutboxSender(ctx).send_ready(account_id=item.account_id)
    for line in report.messages:
        _say(line)
    after = outbox.get_item(ctx.engine, item.id)
    if after.state is OutboxState.SENT:
        _say(f"Sent reply {item.id}.")
        return 0
    reason = f": {after.error}" if after.error else ""
    _say(f"Reply {item.id} was not sent; it stays in the outbox as {_state_text(after.state)}{reason}")
    return EXIT_NOT_SENT


def _render_playbook(ctx: AppContext, args: argparse.Namespace) -> str:
    from app.domain.templates import analyse, render, variables_for
    from app.store import playbook
    from app.ui.timefmt import display_zone

    entry = playbook.find_by_shortcut(ctx.engine, args.playbook)
    if entry is None:
        raise OutboxCommandError(
            f"No playbook answer has the shortcut “{args.playbook}”.", hint="`parley playbook export FILE` lists them."
        )
    answers = dict(pair.split("=", 1) for pair in args.answer if "=" in pair)
    missing = [label for label in analyse(entry.body).prompts if label not in answers]
    if missing:
        raise OutboxCommandError(
            f"“{entry.title}” asks for: {', '.join(missing)}.",
            hint=" ".join(f'--answer "{label}=…"' for label in missing),
        )
    facts = playbook.conversation_facts(ctx.engine, args.conversation_id)
    if facts is None:
        raise OutboxCommandError(f"No conversation with id {args.conversation_id}.", hint="See `parley inbox`.")
    prefs = ctx.preferences
    zone = display_zone(prefs.display_time_zone)
    text = render(entry.body, variables_for(facts, agent_name=prefs.agent_name, zone=zone), answers)
    playbook.record_use(ctx.engine, entry.id, ctx.clock.now())
    return text


def run_outbox(ctx: AppContext, args: argparse.Namespace) -> int:
    if args.outbox_command == "list":
        return _list(ctx, json_output=args.json)
    if args.outbox_command == "approve":
        return _approve(ctx, args)
    return _send(ctx, args)


def _list(ctx: AppContext, *, json_output: bool) -> int:
    from app.store import outbox

    items = outbox.list_items(ctx.engine)
    if json_output:
        print(json.dumps([item_json(item) for item in items], indent=2, ensure_ascii=False))
        return 0
    for item in items:
        first_line = item.body.splitlines()[0] if item.body else ""
        note = item.error or item.comment
        print(f"{item.id}\t{item.state.value}\t{item.conversation_id}\t{first_line[:60]}\t{note}".rstrip())
    return 0


def item_json(item: OutboxItem) -> dict[str, Any]:
    def stamp(value: Any) -> str | None:
        return value.isoformat() if value is not None else None

    return {
        "id": item.id,
        "state": item.state.value,
        "conversation_id": item.conversation_id,
        "account_id": item.account_id,
        "position": item.position,
        "body": item.body,
        "author": item.author,
        "reviewer": item.reviewer,
        "comment": item.comment,
        "error": item.error,
        "created_at": stamp(item.created_at),
        "retry_at": stamp(item.retry_at),
    }


def _approve(ctx: AppContext, args: argparse.Namespace) -> int:
    from app.store import outbox

    if bool(args.all) == bool(args.ids):
        raise OutboxCommandError("Give the ids of the replies to approve, or --all (not both).")
    ids = [item.id for item in outbox.list_items(ctx.engine, APPROVABLE)] if args.all else list(args.ids)
    if not ids:
        _say("Nothing waits for approval.")
        return 0
    reviewer = args.reviewer if args.reviewer is not None else ctx.preferences.agent_name
    try:
        outbox.approve(
            ctx.engine, ids, now=ctx.clock.now(), reviewer=reviewer,
            public_needs_reviewer=ctx.preferences.public_replies_need_review,
        )  # fmt: skip
    except OutboxRuleError as exc:
        raise OutboxCommandError(f"Nothing approved: {exc}", hint="Name the reviewer with --reviewer.") from None
    _say(f"Approved {len(ids)} repl{'y' if len(ids) == 1 else 'ies'}: `parley outbox send` sends them.")
    return 0


def _send(ctx: AppContext, args: argparse.Namespace) -> int:
    """1 when a reply failed; replies that must wait (rate limit, sign-in) are kept and do not fail the run."""
    from app.store import accounts
    from app.sync.sender import OutboxSender

    if ctx.offline:
        raise OutboxCommandError(
            "Working offline (--offline): `parley outbox send` needs the network.", hint="Run it without --offline."
        )
    account_id = accounts.find_account(ctx.engine, args.account).id if args.account else None
    report = OutboxSender(ctx).send_ready(account_id=account_id)
    for line in report.messages:
        _say(line)
    print(
        f"Sent {len(report.sent)}, failed {len(report.failed)}, held {len(report.held)}, "
        f"waiting {len(report.waiting)}.",
        file=sys.stderr,
    )
    return 0 if report.ok else 1


def _state_text(state: OutboxState) -> str:
    return state.value.replace("_", " ")


def _say(line: str) -> None:
    print(f"parley: {line}", file=sys.stderr)
