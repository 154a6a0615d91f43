"""Which connector class serves which platform: an explicit table, filled in as connectors land."""

from __future__ import annotations

from app.domain.models import AccountRef, Platform
from app.errors import PlatformError
from app.platforms.base import Connector


def connector_class(platform: Platform) -> type[Connector]:
    # Imported here so that listing accounts does not import every platform's parsing code.
    if platform is Platform.MASTODON:
        from app.platforms.mastodon import MastodonConnector

        return MastodonConnector
    if platform is Platform.MATRIX:
        from app.platforms.matrix import MatrixConnector

        return MatrixConnector
    if platform is Platform.BLUESKY:
        from app.platforms.bluesky import BlueskyConnector

        return BlueskyConnector
    if platform is Platform.FACEBOOK:
        from app.platforms.graph import FacebookConnector

        return FacebookConnector
    if platform is Platform.INSTAGRAM:
        from app.platforms.instagram import InstagramConnector

        return InstagramConnector
    if platform is Platform.X:
        from app.platforms.x import XConnector

        return XConnector
    if platform is Platform.REDDIT:
        from app.platforms.reddit import RedditConnector

        return RedditConnector
    raise PlatformError(f"Parley cannot connect to {platform.value} accounts yet.")


def make_connector(account: AccountRef, secret: str) -> Connector:
    return connector_class(account.platform)(account, secret)
