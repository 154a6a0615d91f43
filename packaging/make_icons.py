"""Render the app icon SVG in resources/ to the icon files each desktop expects (build output, never committed).

Writes, under the output folder (default build/icons):
  hicolor/<n>x<n>/apps/<app id>.png and hicolor/scalable/apps/<app id>.svg   the freedesktop icon theme layout
  parley.ico        Windows: one file holding every size from 16 to 256 px (PNG-compressed entries)
  parley.iconset/   macOS: the input of `iconutil -c icns parley.iconset` (iconutil exists only on macOS)
"""

from __future__ import annotations

import struct
import sys
from pathlib import Path

SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
ICONSET_SIZES = (16, 32, 128, 256, 512)  # each also at @2x, as iconutil expects


def render_icons(svg: Path, out_dir: Path, app_id: str) -> list[Path]:
    """Write every icon file; return their paths. Raises SystemExit when the SVG cannot be read."""
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication.instance() or QGuiApplication(["make_icons", "-platform", "offscreen"])
    pngs = {size: _render_png(svg, size) for size in {*SIZES, *ICO_SIZES, *(s * 2 for s in ICONSET_SIZES)}}
    written = []
    for size in SIZES:
        written.append(_write(out_dir / "hicolor" / f"{size}x{size}" / "apps" / f"{app_id}.png", pngs[size]))
    written.append(_write(out_dir / "hicolor" / "scalable" / "apps" / f"{app_id}.svg", svg.read_bytes()))
    written.append(_write(out_dir / "parley.ico", ico_file([(size, pngs[size]) for size in ICO_SIZES])))
    for size in ICONSET_SIZES:
        written.append(_write(out_dir / "parley.iconset" / f"icon_{size}x{size}.png", pngs[size]))
        written.append(_write(out_dir / "parley.iconset" / f"icon_{size}x{size}@2x.png", pngs[size * 2]))
    del app
    return written


def _render_png(svg: Path, size: int) -> bytes:
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"cannot read {svg}")
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    renderer.render(painter)
    painter.end()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    buffer.close()
    return bytes(data.data())


def ico_file(images: list[tuple[int, bytes]]) -> bytes:
    """A Windows .ico holding PNG images (supported since Windows Vista); Qt's own ICO writer stores one size."""
    header = struct.pack("<HHH", 0, 1, len(images))
    offset = len(header) + 16 * len(images)
    entries, blobs = b"", b""
    for size, png in images:
        side = 0 if size >= 256 else size  # 0 means 256 in the ICO directory
        entries += struct.pack("<BBBBHHII", side, side, 0, 0, 1, 32, len(png), offset + len(blobs))
        blobs += png
    return header + entries + blobs


def _write(target: Path, data: bytes) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    return target


if __name__ == "__main__":
    root = Path(__file__).resolve().parent.parent
    sys.path.insert(0, str(root))
    from app import APP_ID

    out = Path(sys.argv[1]) if len(sys.argv) > 1 else root / "build" / "icons"
    for path in render_icons(root / "resources" / "icons" / "parley.svg", out, APP_ID):
        print(path)
