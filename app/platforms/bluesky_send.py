"""Sending to Bluesky: reply posts that a retry cannot post twice, and DMs reconciled through the chat log.

A reply post is a record whose key (a TID) comes from the idempotency key, so the same send always
names the same record: before writing, and after any failure, the record is looked up by that key.
Each @handle in a reply becomes a mention facet, so its owner is notified.
Chat has no idempotency key: the conversation's revision is noted before a DM is sent, and a send
whose answer was lost is looked for in the chat log after that revision before it is sent again.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from app.domain.models import SentMessage
from app.errors import AuthError, NetworkError, NotFound, PlatformError, RateLimited
from app.platforms.bluesky_api import XrpcApi
from app.platforms.bluesky_parse import (
    CHAT_PREFIX,
    LOG_CREATE,
    LOG_START,
    POST,
    Unreadable,
    as_dict,
    as_list,
    timestamp,
)

MAX_LOG_PAGES = 20
# A handle is a domain name; the look-behind keeps e-mail addresses and @@ out.
HANDLE_MENTION = re.compile(
    r"(?<![\w@.])@((?:[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)"
)
_KNOWN_SENDS_KEPT = 1000


class BlueskySender:
    """Sends for one signed-in account; remembers its DM sends (by idempotency key) for this session."""

    def __init__(self, api: XrpcApi) -> None:
        self.api = api
        self._pending_dm: dict[str, str] = {}  # idempotency key -> convo rev before a send that timed out
        self._sent_dm: dict[str, SentMessage] = {}  # idempotency key -> what that send made

    @property
    def _me(self) -> str:
        return self.api.session.did if self.api.session else ""

    def post_reply(self, parent_uri: str, text: str, rkey: str) -> SentMessage:
        what = "Sending the Bluesky reply"
        existing = self._own_record(rkey)
        if existing is not None:
            return existing
        parent, root = self._reply_refs(parent_uri)
        record: dict[str, Any] = {
            "$type": POST,
            "text": text,
            "createdAt": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "reply": {"root": root, "parent": parent},
        }
        facets = self._mention_facets(text)
        if facets:
            record["facets"] = facets
        body = {"repo": self._me, "collection": POST, "rkey": rkey, "record": record}
        try:
            answer = self.api.call("POST", "com.atproto.repo.createRecord", body=body, what=what)
        except (AuthError, RateLimited):
            raise
        except PlatformError:
            # The first attempt may have been stored although its answer never came back (or this one
            # was refused because it was): the record key tells.
            existing = self._own_record(rkey)
            if existing is None:
                raise
            return existing
        uri = answer.get("uri")
        if not isinstance(uri, str) or not uri:
            raise PlatformError(f"{what}: the server did not return the post's uri.")
        return SentMessage(platform_message_id=uri, created_at=datetime.now(UTC), raw=answer)

    def _mention_facets(self, text: str) -> list[dict[str, Any]]:
        """A mention facet for each @handle in the text that resolves to an account: without one Bluesky
        shows the handle as plain text and does not notify its owner."""
        facets: list[dict[str, Any]] = []
        resolved: dict[str, str | None] = {}
        for match in HANDLE_MENTION.finditer(text):
            handle = match.group(1).lower()
            if handle not in resolved:
                resolved[handle] = self._resolve(handle)
            did = resolved[handle]
            if did is None:
                continue
            start = len(text[: match.start()].encode("utf-8"))
            end = start + len(match.group(0).encode("utf-8"))
            facets.append(
                {
                    "$type": "app.bsky.richtext.facet",
                    "index": {"byteStart": start, "byteEnd": end},
                    "features": [{"$type": "app.bsky.richtext.facet#mention", "did": did}],
                }
            )
        return facets

    def _resolve(self, handle: str) -> str | None:
        params = {"handle": handle}
        try:
            body = self.api.call("GET", "com.atproto.identity.resolveHandle", params=params, what="Finding @" + handle)
        except (AuthError, RateLimited):
            raise
        except PlatformError:
            return None  # not a handle after all (an e-mail address, a typo): left as text
        did = body.get("did")
        return did if isinstance(did, str) and did.startswith("did:") else None

    def _own_record(self, rkey: str) -> SentMessage | None:
        params = {"repo": self._me, "collection": POST, "rkey": rkey}
        try:
            body = self.api.call("GET", "com.atproto.repo.getRecord", params=params, what="Checking for a sent reply")
        except NotFound:
            return None
        uri = body.get("uri")
        if not isinstance(uri, str) or not uri:
            return None
        created = as_dict(body.get("value")).get("createdAt")
        try:
            created_at = timestamp(created, "createdAt")
        except Unreadable:
            created_at = datetime.now(UTC)
        return SentMessage(platform_message_id=uri, created_at=created_at, raw=body)

    def _reply_refs(self, parent_uri: str) -> tuple[dict[str, str], dict[str, str]]:
        """Strong references (uri + cid) to the post answered and to its thread's root."""
        body = self.api.call("GET", "app.bsky.feed.getPosts", params={"uris": [parent_uri]}, what="Reading the post")
        posts = [p for p in as_list(body.get("posts")) if as_dict(p).get("uri") == parent_uri]
        if not posts:
            raise NotFound("The post being answered no longer exists on Bluesky.")
        view = as_dict(posts[0])
        cid = view.get("cid")
        if not isinstance(cid, str) or not cid:
            raise PlatformError("Reading the post: Bluesky sent it without its cid.")
        parent = {"uri": parent_uri, "cid": cid}
        root = as_dict(as_dict(as_dict(view.get("record")).get("reply")).get("root"))
        if isinstance(root.get("uri"), str) and isinstance(root.get("cid"), str):
            return parent, {"uri": root["uri"], "cid": root["cid"]}
        return parent, parent

    def send_dm(self, convo_id: str, text: str, key: str) -> SentMessage:
        if key in self._sent_dm:
            return self._sent_dm[key]
        sent = self._send_dm_once(convo_id, text, key)
        self._pending_dm.pop(key, None)
        self._sent_dm[key] = sent
        if len(self._sent_dm) > _KNOWN_SENDS_KEPT:
            del self._sent_dm[next(iter(self._sent_dm))]
        return sent

    def _send_dm_once(self, convo_id: str, text: str, key: str) -> SentMessage:
        what = "Sending the Bluesky message"
        earlier = self._pending_dm.get(key)
        if earlier is not None:
            found = self._find_sent(convo_id, text, earlier)
            if found is not None:
                return found
        else:
            body = self.api.call("GET", "chat.bsky.convo.getConvo", params={"convoId": convo_id}, what=what)
            rev = as_dict(body.get("convo")).get("rev")
            # Kept before sending: should the answer be lost, the log after this revision tells.
            self._pending_dm[key] = rev if isinstance(rev, str) else ""
        try:
            answer = self.api.call(
                "POST", "chat.bsky.convo.sendMessage", body={"convoId": convo_id, "message": {"text": text}}, what=what
            )
        except NetworkError:
            found = self._find_sent(convo_id, text, self._pending_dm[key])
            if found is None:
                raise
            return found
        return self._sent_message(convo_id, answer)

    def _find_sent(self, convo_id: str, text: str, rev: str) -> SentMessage | None:
        """Our message with this text in the chat log after `rev`: a send whose answer was lost."""
        cursor = rev or LOG_START
        for _ in range(MAX_LOG_PAGES):
            body = self.api.call(
                "GET", "chat.bsky.convo.getLog", params={"cursor": cursor} if cursor else None, what="Checking a send"
            )
            for entry in as_list(body.get("logs")):
                entry = as_dict(entry)
                message = as_dict(entry.get("message"))
                if (
                    entry.get("$type") == LOG_CREATE
                    and entry.get("convoId") == convo_id
                    and as_dict(message.get("sender")).get("did") == self._me
                    and message.get("text") == text
                ):
                    return self._sent_message(convo_id, message)
            following = body.get("cursor")
            if not as_list(body.get("logs")) or not isinstance(following, str) or following == cursor:
                return None
            cursor = following
        return None

    def _sent_message(self, convo_id: str, answer: dict[str, Any]) -> SentMessage:
        message_id = answer.get("id")
        if not isinstance(message_id, str) or not message_id:
            raise PlatformError("Sending the Bluesky message: the chat service did not return its id.")
        try:
            created_at = timestamp(answer.get("sentAt"), "sentAt")
        except Unreadable:
            created_at = datetime.now(UTC)
        return SentMessage(
            platform_message_id=f"{CHAT_PREFIX}{convo_id}:{message_id}", created_at=created_at, raw=answer
        )
