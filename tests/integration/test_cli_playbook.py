"""`parley playbook export|import` on real profiles: a byte-identical round trip, conflicts reported with a
non-zero exit and nothing changed unless --theirs or --mine settles them, unsafe templates refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from app import cli
from app.demo.resources import starter_playbook
from app.store import playbook as store
from app.store.database import open_store


def parley(tmp_path: Path, profile: str, *args: str) -> int:
    return cli.main(["--data-dir", str(tmp_path / profile), "--offline", "playbook", *args])


def entries(tmp_path: Path, profile: str) -> dict[str, str]:
    engine = open_store(tmp_path / profile / "parley.sqlite3")
    try:
        return {entry.uid: entry.body for entry in store.list_entries(engine)}
    finally:
        engine.dispose()


@pytest.fixture
def team_file(tmp_path: Path) -> Path:
    """A profile holding the starter playbook, exported: the file a team keeps in git."""
    assert parley(tmp_path, "alice", "import", str(starter_playbook())) == 0
    path = tmp_path / "team.yaml"
    assert parley(tmp_path, "alice", "export", str(path)) == 0
    return path


def test_export_import_into_an_empty_profile_export_again_is_identical(
    tmp_path: Path, team_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert team_file.read_bytes() == starter_playbook().read_bytes()  # the starter file is already canonical
    assert parley(tmp_path, "bob", "import", str(team_file)) == 0
    assert "24 added" in capsys.readouterr().err
    again = tmp_path / "again.yaml"
    assert parley(tmp_path, "bob", "export", str(again)) == 0
    assert again.read_bytes() == team_file.read_bytes()
    assert parley(tmp_path, "bob", "import", str(team_file)) == 0  # a second import adds no duplicates
    assert "0 added" in capsys.readouterr().err and len(entries(tmp_path, "bob")) == 24


def test_a_conflict_is_reported_with_a_non_zero_exit_and_changes_nothing(
    tmp_path: Path, team_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    edited = team_file.read_text(encoding="utf-8").replace("within 30 days of delivery", "within 14 days of delivery")
    team_file.write_text(edited.replace("uid: starter-security", "uid: team-new-security", 1), encoding="utf-8")
    before = entries(tmp_path, "alice")
    capsys.readouterr()

    assert parley(tmp_path, "alice", "import", str(team_file)) == 1
    err = capsys.readouterr().err
    assert "1 new, 22 unchanged, 1 in conflict" in err
    assert "starter-refund-policy  “Refund policy” differs in: body" in err
    assert "Nothing was changed" in err and "--theirs" in err and "--mine" in err
    assert entries(tmp_path, "alice") == before  # not even the new answer was added


def test_theirs_or_mine_settle_every_conflict(tmp_path: Path, team_file: Path) -> None:
    team_file.write_text(
        team_file.read_text(encoding="utf-8").replace("within 30 days", "within 14 days"), encoding="utf-8"
    )
    assert parley(tmp_path, "alice", "import", str(team_file), "--mine") == 0
    assert "within 30 days" in entries(tmp_path, "alice")["starter-refund-policy"]
    assert parley(tmp_path, "alice", "import", str(team_file), "--theirs") == 0
    assert "within 14 days" in entries(tmp_path, "alice")["starter-refund-policy"]
    assert len(entries(tmp_path, "alice")) == 24
    with pytest.raises(SystemExit) as both:
        parley(tmp_path, "alice", "import", str(team_file), "--mine", "--theirs")
    assert both.value.code == 2


def test_a_template_reaching_python_internals_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shared = tmp_path / "shared.yaml"
    shared.write_text(
        "parley_playbook: 1\n---\nuid: evil\ntitle: Evil\nbody: \"{{ ''.__class__.__mro__[1].__subclasses__() }}\"\n",
        encoding="utf-8",
    )
    assert parley(tmp_path, "carol", "import", str(shared)) == 2
    err = capsys.readouterr().err
    assert "shared.yaml, line 3: The answer “Evil” cannot be used" in err
    assert "The sandbox refused “__class__”: templates cannot reach Python internals" in err
    assert entries(tmp_path, "carol") == {}
