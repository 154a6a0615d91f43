"""Saved views of the inbox: a name, a query in the search language, and an order."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from app.domain.search_syntax import SearchQuery, parse_query


class Order(enum.StrEnum):
    URGENT = "urgent"  # conversations waiting on a timer (open or snoozed), breached and soonest due first;
    #                    then everything else, newest activity first
    PRIORITY = "priority"  # highest priority first, then newest
    NEWEST = "newest"  # newest activity first

    @property
    def label(self) -> str:
        return {"urgent": "Urgent first", "priority": "Priority first", "newest": "Newest first"}[self.value]


NOT_CLOSED = "status:open status:pending status:snoozed"


@dataclass(frozen=True)
class SavedView:
    key: str
    name: str
    query_text: str
    order: Order = Order.URGENT
    description: str = ""

    @property
    def query(self) -> SearchQuery:
        return parse_query(self.query_text)


DEFAULT_VIEWS = (
    SavedView("all-open", "All open", "is:open", description="Every open conversation, most urgent first"),
    SavedView(
        "breaching",
        "Breaching soon",
        "sla:breached sla:warning",
        description="Past their response time, or past three quarters of it",
    ),
    SavedView("complaints", "Complaints", f"tag:complaint {NOT_CLOSED}", description="Tagged complaint, not closed"),
    SavedView(
        "pre-purchase", "Pre-purchase", f"tag:pre-purchase {NOT_CLOSED}", description="Buying questions, not closed"
    ),
    SavedView("mine", "Mine", f"is:mine {NOT_CLOSED}", description="Assigned to you (your name in Settings)"),
    SavedView("closed-today", "Closed today", "closed:today", Order.NEWEST, description="Closed since midnight"),
    SavedView("everything", "All conversations", "", description="Every conversation in every state"),
)
