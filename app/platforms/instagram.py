"""The Instagram connector: the Instagram professional account linked to a Facebook Page, over the Graph API.

It shares the Page connector's conversations walk (platform=instagram) and sending; Instagram differs in
its comments (/{ig-user}/media, /{media}/comments with nested replies, POST /{comment}/replies) and in
having no "last comment" time on media, so the newest MEDIA_PAGES pages of media are read on every sync.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import replace

from app.domain.models import Direction, FetchedMessage, Identity, Page, Platform, RejectedItem, SentMessage
from app.errors import PlatformError
from app.platforms.graph import (
    FIRST_SYNC_SPAN,
    IG_COMMENT_FIELDS,
    PAGE_SIZE,
    GraphConnector,
    comments_page,
    cursor_time,
    edge_data,
    time_key,
    with_after,
)
from app.platforms.graph_parse import after_cursor, require_id
from app.platforms.mastodon_parse import UnreadableItem

log = logging.getLogger("app.platforms.graph")

MEDIA_PAGES = 2  # Instagram media read per sync for new comments (25 each)


class InstagramConnector(GraphConnector):
    """The Instagram business account linked to a Page: Instagram messages and comments on its media."""

    platform = Platform.INSTAGRAM
    messaging_platform = "instagram"
    message_stream = "messages"
    max_reply_length = 2200  # a comment reply
    max_dm_length = 1000  # Instagram's text limit for messages

    def verify(self) -> Identity:
        what = "Checking the Instagram account"
        page = self._client.get(f"/{self.page_id}", what=what, params={"fields": "id,name,instagram_business_account"})
        linked = page.get("instagram_business_account") if isinstance(page, dict) else None
        ig_id = linked.get("id") if isinstance(linked, dict) else None
        if not isinstance(ig_id, str) or not ig_id:
            raise PlatformError(
                "This Page has no Instagram business account linked.",
                hint="Link the Instagram professional account to the Page in Meta Business Suite.",
            )
        body = self._client.get(f"/{ig_id}", what=what, params={"fields": "id,username,name"})
        username = body.get("username") if isinstance(body, dict) else None
        if not isinstance(username, str) or not username:
            raise PlatformError("Meta sent the Instagram account without a username.")
        name = str(body["name"]) if isinstance(body.get("name"), str) else ""
        return Identity(platform_user_id=ig_id, handle="@" + username, display_name=name)

    def _comments(self, cursor: str | None) -> Iterator[Page]:
        what = "Reading comments on the Instagram media"
        ig_id = self.account.platform_user_id or self.verify().platform_user_id
        since = cursor_time(cursor) or self._now() - FIRST_SYNC_SPAN
        newest = cursor_time(cursor)
        after: str | None = None
        params = {"fields": "id,timestamp,comments_count", "limit": PAGE_SIZE}
        fields = f"{IG_COMMENT_FIELDS},replies{{{IG_COMMENT_FIELDS}}}"
        for page_number in range(MEDIA_PAGES):
            body = self._client.get(f"/{ig_id}/media", what=what, params=with_after(params, after))
            messages: list[FetchedMessage] = []
            rejected: list[RejectedItem] = []
            for index, media in enumerate(edge_data(body, what=what)):
                try:
                    media_id = require_id(media, "media", index)
                except UnreadableItem as exc:
                    rejected.append(exc.rejected())
                    continue
                if media.get("comments_count") == 0:
                    continue
                got, bad = self._comment_walk(f"/{media_id}/comments", {"fields": fields, "limit": "50"}, since,
                                              what=what, ordered=False)  # fmt: skip
                messages.extend(got)
                rejected.extend(bad)
            newest = max([newest, *(m.created_at for m in messages)], default=None, key=time_key)
            after = after_cursor(body)
            last = after is None or page_number == MEDIA_PAGES - 1
            yield comments_page(messages, rejected, newest, last=last)
            if last:
                return

    def _reply_to_comment(self, root: str, in_reply_to: str | None, text: str) -> SentMessage:
        params = {"fields": IG_COMMENT_FIELDS, "limit": "50"}
        return self._reply_once(root, "replies", params, in_reply_to, text, what="Sending the Instagram comment reply")

    def _mark_own(self, replies: list[FetchedMessage]) -> list[FetchedMessage]:
        own_handle = self.account.handle.lower()
        return [
            m if m.direction is Direction.OUTBOUND or m.author.handle.lower() != own_handle else _as_outbound(m)
            for m in replies
        ]


def _as_outbound(message: FetchedMessage) -> FetchedMessage:
    return replace(message, direction=Direction.OUTBOUND)
