"""A profile with known report answers: three accounts, eleven messages, twelve response records, three closings.

Period: Monday 2026-03-02 to Wednesday 2026-03-04 in Europe/Berlin (UTC+1), i.e. [03-01 23:00Z, 03-04 23:00Z).
Report time NOW = 2026-03-05 12:00Z. Accounts: brand (mastodon, department Support), room (matrix, no
department), shop (mastodon, department Sales). Tags: "refund" on a-1 and c-1, "vip" on a-1.

Messages (UTC → Berlin local):
  a-1: in 03-02 09:00 (Mon 10h), out 09:20          b-1: in 03-02 09:40 (Mon 10h), out 10:00
  a-2: in 03-03 14:00 (Tue 15h)                     b-2: in 03-04 22:59 (Wed 23h); in 03-04 23:00 (Thu: outside)
  a-3: in 03-01 22:30 (Sun: outside); in 03-01 23:30 (Mon 0h)
  c-1: in 03-03 14:10 (Tue 15h), out 16:00          c-2: in 03-03 20:00 (Tue 21h)

Response records (response time = answered − started − paused):
  R1  brand a-1 first  03-02 09:00 → answered 09:20, due 09:30               20 min, in target
  R2  room  b-1 first  03-02 09:40 → answered 11:40, paused 1 h, due 11:40   60 min, answered at the due time
  R3  brand a-2 first  03-03 14:00 → answered 14:45, due 14:30               45 min, BREACH
  R4  shop  c-1 first  03-03 14:10 → answered 14:20, due 18:10               10 min, in target
  R5  brand a-3 next   03-01 23:30 (Mon local) unanswered, due 03-02 00:00   BREACH (still waiting)
  R6  room  b-2 first  03-04 22:59 unanswered, due 03-05 02:59               BREACH (still waiting)
  R7  shop  c-2 first  03-03 20:00 → closed 20:05 unanswered, due 03-04 00:00  no verdict
  R8  brand a-1 next   03-02 12:00 → answered 12:40, due 12:30, "Old strict" 30 min   40 min, BREACH
  R9  shop  c-1 next   03-03 17:00 → answered 17:40, due 18:00, "Relaxed" 60 min      40 min, in target
  R10 room  b-1 next   03-02 13:00 → answered 13:05, due 14:00               5 min
  R11 brand a-3 first  03-01 22:30 (Sun local: outside the period)
  R12 shop  c-2 next   03-04 23:00 (Thu local: outside the period)

Closed in the period (resolution = closed − opened): a-1 at 03-02 10:00 (60 min), b-1 at 03-02 14:00
(260 min), c-2 at 03-03 20:05 (5 min); a-3 closed 03-05 10:00 is outside; a-2 closed 03-04 20:00 and
reopened at 21:00 is not resolved (it keeps its closed_at, not its status).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, delete, insert, select

from app.domain.models import ConversationStatus, Direction, Platform
from app.store import accounts, triage
from app.store.ingest import store_page
from app.store.schema import conversation_tags, conversations, response_policies, response_records
from tests.factories import message, page

ZONE = ZoneInfo("Europe/Berlin")
FIRST_DAY, LAST_DAY = date(2026, 3, 2), date(2026, 3, 4)
NOW = datetime(2026, 3, 5, 12, 0, tzinfo=UTC)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


def minutes_after_t0(moment: datetime) -> int:
    return int((moment - at(2, 9)).total_seconds() // 60)


@dataclass(frozen=True)
class Fixture:
    conversation_ids: dict[str, int]


def _messages(key: str, *items: tuple[str, Direction, datetime]) -> list:  # type: ignore[type-arg]
    return [
        message(pid, key=key, direction=direction, minutes=minutes_after_t0(moment), text="about my order",
                author="brand" if direction is Direction.OUTBOUND else f"customer-{key}")
        for pid, direction, moment in items
    ]  # fmt: skip


IN, OUT = Direction.INBOUND, Direction.OUTBOUND


def build(engine: Engine) -> Fixture:
    brand = accounts.add_account(
        engine, platform=Platform.MASTODON, name="brand", base_url="https://m.example", now=NOW
    )
    room = accounts.add_account(engine, platform=Platform.MATRIX, name="room", base_url="https://x.example", now=NOW)
    shop = accounts.add_account(engine, platform=Platform.MASTODON, name="shop", base_url="https://s.example", now=NOW)
    accounts.set_option(engine, brand.id, "department", "Support")
    accounts.set_option(engine, shop.id, "department", "Sales")
    for account, fetched in (
        (brand, _messages("a-1", ("a1", IN, at(2, 9)), ("a2", OUT, at(2, 9, 20)))
         + _messages("a-2", ("a3", IN, at(3, 14)))
         + _messages("a-3", ("a5", IN, at(1, 22, 30)), ("a4", IN, at(1, 23, 30)))),
        (room, _messages("b-1", ("b1", IN, at(2, 9, 40)), ("b2", OUT, at(2, 10)))
         + _messages("b-2", ("b3", IN, at(4, 22, 59)), ("b4", IN, at(4, 23)))),
        (shop, _messages("c-1", ("c1", IN, at(3, 14, 10)), ("c2", OUT, at(3, 16)))
         + _messages("c-2", ("c3", IN, at(3, 20)))),
    ):  # fmt: skip
        store_page(engine, account.id, page(*fetched), now=NOW)
    with engine.connect() as connection:
        ids = {row.conversation_key: row.id for row in connection.execute(select(conversations))}
    for key, moment in (("a-1", at(2, 10)), ("b-1", at(2, 14)), ("c-2", at(3, 20, 5)), ("a-3", at(5, 10))):
        triage.set_status(engine, [ids[key]], ConversationStatus.CLOSED, now=moment)
    triage.set_status(engine, [ids["a-2"]], ConversationStatus.CLOSED, now=at(4, 20))
    triage.set_status(engine, [ids["a-2"]], ConversationStatus.OPEN, now=at(4, 21))
    with engine.begin() as connection:
        connection.execute(delete(conversation_tags))  # only the tags set here, none a rule may have added
    triage.set_tag(engine, [ids["a-1"], ids["c-1"]], "refund", True)
    triage.set_tag(engine, [ids["a-1"]], "vip", True)
    with engine.begin() as connection:
        # Only the records written below: whatever clocks the store kept on its own are removed, so the
        # answers in the docstring are the whole truth.
        connection.execute(delete(response_records))
        # A policy in force now that would judge every record differently: reports must not consult it.
        connection.execute(
            insert(response_policies).values(name="Now", conditions={}, first_response_s=60, next_response_s=60)
        )

    def record(
        key: str,
        account_id: int,
        kind: str,
        started: datetime,
        due: datetime,
        *,
        answered: datetime | None = None,
        ended: datetime | None = None,
        paused_s: int = 0,
        policy: str = "Everything else",
    ) -> dict:  # type: ignore[type-arg]
        return {
            "conversation_id": ids[key], "account_id": account_id, "kind": kind, "started_at": started,
            "due_at": due, "warn_at": None, "answered_at": answered, "ended_at": ended, "paused_s": paused_s,
            "policy_id": None, "policy_name": policy,
            "target_s": int((due - started).total_seconds()) - paused_s,
        }  # fmt: skip

    rows = [
        record("a-1", brand.id, "first", at(2, 9), at(2, 9, 30), answered=at(2, 9, 20)),
        record("b-1", room.id, "first", at(2, 9, 40), at(2, 11, 40), answered=at(2, 11, 40), paused_s=3600),
        record("a-2", brand.id, "first", at(3, 14), at(3, 14, 30), answered=at(3, 14, 45)),
        record("c-1", shop.id, "first", at(3, 14, 10), at(3, 18, 10), answered=at(3, 14, 20)),
        record("a-3", brand.id, "next", at(1, 23, 30), at(2, 0)),
        record("b-2", room.id, "first", at(4, 22, 59), at(5, 2, 59)),
        record("c-2", shop.id, "first", at(3, 20), at(4, 0), ended=at(3, 20, 5)),
        record("a-1", brand.id, "next", at(2, 12), at(2, 12, 30), answered=at(2, 12, 40), policy="Old strict"),
        record("c-1", shop.id, "next", at(3, 17), at(3, 18), answered=at(3, 17, 40), policy="Relaxed"),
        record("b-1", room.id, "next", at(2, 13), at(2, 14), answered=at(2, 13, 5)),
        record("a-3", brand.id, "first", at(1, 22, 30), at(1, 23), answered=at(1, 22, 31)),
        record("c-2", shop.id, "next", at(4, 23), at(5, 3)),
    ]
    with engine.begin() as connection:
        connection.execute(insert(response_records), rows)
    return Fixture(ids)


MIN = timedelta(minutes=1)
