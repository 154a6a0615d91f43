"""Desktop integration files: valid for the freedesktop tools, one app id and one version everywhere."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import sys
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


def test_make_icons_renders_every_size_from_the_one_svg(tmp_path: Path) -> None:
    # In a subprocess: make_icons creates its own QGuiApplication, which must not meet pytest-qt's.
    result = subprocess.run(
        [sys.executable, str(ROOT / "packaging" / "make_icons.py"), str(tmp_path)],
        env=dict(os.environ, QT_QPA_PLATFORM="offscreen"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    for size in (16, 24, 32, 48, 64, 128, 256, 512):
        png = tmp_path / "hicolor" / f"{size}x{size}" / "apps" / f"{APP_ID}.png"
        assert png_size(png.read_bytes()) == (size, size), png
    svg = tmp_path / "hicolor" / "scalable" / "apps" / f"{APP_ID}.svg"
    assert svg.read_bytes() == (ROOT / "resources" / "icons" / "parley.svg").read_bytes()
    assert ico_sizes((tmp_path / "parley.ico").read_bytes()) == [16, 24, 32, 48, 64, 128, 256]
    iconset = {path.name: png_size(path.read_bytes())[0] for path in (tmp_path / "parley.iconset").iterdir()}
    assert iconset["icon_16x16@2x.png"] == 32 and iconset["icon_512x512@2x.png"] == 1024 and len(iconset) == 10


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def ico_sizes(data: bytes) -> list[int]:
    """The sizes in an ICO directory, each checked against the PNG it points to."""
    reserved, kind, count = struct.unpack("<HHH", data[:6])
    assert (reserved, kind) == (0, 1)
    sizes = []
    for index in range(count):
        width, height, _, _, _, _, length, offset = struct.unpack("<BBBBHHII", data[6 + 16 * index : 22 + 16 * index])
        side = width or 256
        assert (width, height) == (side % 256, side % 256)
        assert png_size(data[offset : offset + length]) == (side, side)
        sizes.append(side)
    return sizes
