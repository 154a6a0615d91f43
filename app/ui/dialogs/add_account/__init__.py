"""Each platform's sign-in form, in one table: a new platform is one module here and one line below."""

from __future__ import annotations

from app.ui.dialogs.add_account.base import SignInDialog, SignInForm
from app.ui.dialogs.add_account.bluesky import BlueskyForm
from app.ui.dialogs.add_account.mastodon import MastodonForm
from app.ui.dialogs.add_account.matrix import MatrixForm
from app.ui.dialogs.add_account.meta_graph import FacebookForm, InstagramForm
from app.ui.dialogs.add_account.oauth_app import RedditForm, XForm

#: Platform value -> its form, in the order the Accounts dialog offers them.
SIGN_IN_FORMS: dict[str, type[SignInForm]] = {
    MastodonForm.platform: MastodonForm,
    MatrixForm.platform: MatrixForm,
    BlueskyForm.platform: BlueskyForm,
    FacebookForm.platform: FacebookForm,
    InstagramForm.platform: InstagramForm,
    XForm.platform: XForm,
    RedditForm.platform: RedditForm,
}

__all__ = ["SIGN_IN_FORMS", "SignInDialog", "SignInForm"]
