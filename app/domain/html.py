"""Untrusted message HTML made safe: a small allow-list kept by nh3 (Ammonia), and a plain-text form."""

from __future__ import annotations

import html
import re

import nh3

_ALLOWED_TAGS = {"p", "br", "a", "span", "b", "strong", "i", "em", "u", "code", "pre", "blockquote", "ul", "ol", "li"}
_ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}
_ALLOWED_SCHEMES = {"http", "https", "mailto"}
_BLOCK_END = re.compile(r"</p>|<br\s*/?>|</li>|</blockquote>", re.IGNORECASE)
_TAG = re.compile(r"<[^>]+>")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Sanitising costs about 0.2 s per MB; no platform sends a body near this size, so a hostile one is cut
# first instead of holding up a sync for seconds (the store cuts what remains to its own limit).
MAX_HTML_INPUT = 1_000_000


def sanitize_html(untrusted: str) -> str:
    """Keep text, paragraphs and links with safe schemes; drop scripts, styles, images and frames."""
    cleaned = nh3.clean(
        _CONTROL.sub("", untrusted[:MAX_HTML_INPUT]),
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRIBUTES,
        url_schemes=_ALLOWED_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )
    return cleaned


def html_to_text(untrusted: str) -> str:
    """Plain text of a message body for search, snippets and counting; works on unsanitised input."""
    safe = sanitize_html(untrusted)
    with_breaks = _BLOCK_END.sub("\n", safe)
    text = html.unescape(_TAG.sub("", with_breaks))
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return "\n".join(line for line in lines if line).strip()


def text_to_html(text: str) -> str:
    """Escape plain text (from platforms that send text) for the thread view."""
    return "<p>" + html.escape(_CONTROL.sub("", text)).replace("\n", "<br>") + "</p>"
