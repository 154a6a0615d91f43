"""A plain `pip install .` (not editable) carries the resources/ folder and the Alembic migrations, and the
installed app finds them without a source checkout next to it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
PROBE = """
import json, sys
import app
from app.paths import resources_dir
from app.demo.resources import demo_file
from app.store.database import head_revision, open_store
engine = open_store(__import__("pathlib").Path(sys.argv[1]), backups=__import__("pathlib").Path(sys.argv[2]))
engine.dispose()
print(json.dumps({"app": app.__file__, "resources": str(resources_dir()), "version": app.version(),
                  "scenario": demo_file("scenario.json").is_file(), "head": head_revision()}))
"""


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Built from a copy, so the build leaves no build/ or egg-info behind in the checkout.
    source = tmp_path_factory.mktemp("source")
    skip = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("app", "resources"):
        shutil.copytree(REPO_ROOT / name, source / name, ignore=skip)
    for name in ("pyproject.toml", "setup.py", "README.md"):
        shutil.copy2(REPO_ROOT / name, source / name)
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir", str(out), str(source)],
        check=True,
        capture_output=True,
        timeout=240,
    )
    (built,) = out.glob("parley-*.whl")
    return built


def test_wheel_holds_every_resource_file_and_every_migration(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    resources = {
        f"app/resources/{p.relative_to(REPO_ROOT / 'resources').as_posix()}"
        for p in (REPO_ROOT / "resources").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }
    migrations = {
        p.relative_to(REPO_ROOT).as_posix() for p in (REPO_ROOT / "app" / "store" / "migrations").rglob("*.py")
    }
    assert "app/resources/icons/parley.svg" in resources and "app/store/migrations/env.py" in migrations
    assert resources - names == set()
    assert migrations - names == set()
    assert not any(name.endswith(".pyc") for name in names)


def test_installed_wheel_finds_its_resources_and_migrates_a_new_profile(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--quiet", "--target", str(target), str(wheel)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    # The installed copy first on the path, run from elsewhere: the checkout's resources/ are out of reach.
    env = dict(os.environ, PYTHONPATH=str(target))
    env.pop("PARLEY_DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "-c", PROBE, str(tmp_path / "parley.sqlite3"), str(tmp_path / "backups")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert Path(found["app"]).is_relative_to(target)
    assert found["resources"] == str(target / "app" / "resources")
    assert found["scenario"] is True
    assert found["version"] == tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert found["head"] == sorted(p.name[:4] for p in (REPO_ROOT / "app/store/migrations/versions").glob("0*.py"))[-1]
