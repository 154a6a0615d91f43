"""Desktop integration files: valid for the freedesktop tools, one app id and one version everywhere."""

from __future__ import annotations

import shutil
import subprocess
import tomllib
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

from app import APP_ID, version

ROOT = Path(__file__).resolve().parents[2]
DESKTOP = ROOT / "packaging" / f"{APP_ID}.desktop"
METAINFO = ROOT / "packaging" / f"{APP_ID}.metainfo.xml"


def tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed (make test installs it on Debian)")
    return path


def test_desktop_file_passes_desktop_file_validate() -> None:
    result = subprocess.run([tool("desktop-file-validate"), str(DESKTOP)], capture_output=True, text=True)
    assert result.returncode == 0 and "error" not in result.stdout.lower(), result.stdout


def test_metainfo_passes_appstreamcli_validate() -> None:
    result = subprocess.run(
        [tool("appstreamcli"), "validate", "--no-net", str(METAINFO)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_one_app_id_and_one_version_everywhere() -> None:
    metainfo = ElementTree.parse(METAINFO).getroot()
    assert metainfo.findtext("id") == APP_ID
    assert metainfo.find("launchable").text == DESKTOP.name
    assert f"Icon={APP_ID}" in DESKTOP.read_text()
    with (ROOT / "pyproject.toml").open("rb") as handle:
        declared = tomllib.load(handle)["project"]["version"]
    assert version() == declared
    assert metainfo.find("releases/release").get("version") == declared
