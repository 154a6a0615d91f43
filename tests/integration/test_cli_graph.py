"""`parley accounts add facebook|instagram` end to end against the Graph API emulator: the Page token is
checked with Meta's API, kept in the keyring only, and `parley sync` fills the inbox from both accounts."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest

from app import APP_ID
from tests.integration.test_cli import parley, profile_id_of
from tests.peers.graph_api import GraphApi


@pytest.fixture
def graph() -> Iterator[GraphApi]:
    server = GraphApi().start()
    yield server
    server.stop()


def test_adding_a_page_and_its_instagram_account_then_syncing_both(
    tmp_path: Path, graph: GraphApi, secret_service: dict[str, str]
) -> None:
    graph.message_from(graph.person("Ann Lee"), "Where is my tent?")
    graph.comment(graph.post("New tents")["id"], graph.person("Bob Ray"), "Do they fit four?")
    graph.message_from(graph.person("Dee", instagram=True), "Is the red jacket back?", platform="instagram")
    data_dir = tmp_path / "profile"
    common = ["--page-id", graph.page.id, "--graph-url", graph.url]

    page = parley(data_dir, "accounts", "add", "facebook", *common, "--name", "acme", stdin=graph.token + "\n")
    insta = parley(data_dir, "accounts", "add", "instagram", *common, stdin=graph.token + "\n")
    assert page.returncode == 0, page.stderr
    assert insta.returncode == 0, insta.stderr

    listed = json.loads(parley(data_dir, "accounts", "list", "--json").stdout)
    assert sorted((a["name"], a["platform"], a["handle"]) for a in listed) == [
        ("@acme.outdoor", "instagram", "@acme.outdoor"),
        ("acme", "facebook", "Acme Outdoor"),
    ]
    for entry in listed:
        assert keyring.get_password(APP_ID, f"{profile_id_of(data_dir)}/{entry['id']}") == graph.token
    assert graph.token.encode() not in (data_dir / "parley.sqlite3").read_bytes()

    synced = parley(data_dir, "sync", "--once")
    assert synced.returncode == 0, synced.stderr
    conversations = json.loads(parley(data_dir, "inbox", "--json").stdout)
    assert sorted((c["platform"], c["latest_message"]["text"]) for c in conversations) == [
        ("facebook", "Do they fit four?"),
        ("facebook", "Where is my tent?"),
        ("instagram", "Is the red jacket back?"),
    ]


def test_a_wrong_page_token_or_page_id_is_refused_with_a_clear_message(
    tmp_path: Path, graph: GraphApi, secret_service: dict[str, str]
) -> None:
    data_dir = tmp_path / "profile"
    common = ["accounts", "add", "facebook", "--graph-url", graph.url]

    expired = parley(data_dir, *common, "--page-id", graph.page.id, stdin="EAAB-not-valid\n")
    not_a_page = parley(data_dir, *common, "--page-id", "acme-outdoor", stdin=graph.token + "\n")

    assert expired.returncode != 0 and "Page access token" in expired.stderr
    assert "EAAB-not-valid" not in expired.stderr
    assert not_a_page.returncode != 0 and "Page id is a number" in not_a_page.stderr
    assert json.loads(parley(data_dir, "accounts", "list", "--json").stdout) == []
