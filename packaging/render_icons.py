"""Renders resources/icons/softphone.svg into the icon files each system asks for.

    python packaging/render_icons.py OUT_DIR

OUT_DIR/hicolor/<N>x<N>/apps/softphone.png (freedesktop sizes), OUT_DIR/hicolor/scalable/apps/softphone.svg,
OUT_DIR/softphone.ico (Windows: 16 to 256 px) and OUT_DIR/softphone.iconset/ (macOS: iconutil turns it into
softphone.icns on a Mac).
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt  # noqa: E402
from PySide6.QtGui import QGuiApplication, QImage, QPainter  # noqa: E402
from PySide6.QtSvg import QSvgRenderer  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "resources" / "icons" / "softphone.svg"
HICOLOR_SIZES = (16, 22, 24, 32, 48, 64, 128, 256, 512)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
ICONSET = {
    16: ("16x16",),
    32: ("16x16@2x", "32x32"),
    64: ("32x32@2x",),
    128: ("128x128",),
    256: ("128x128@2x", "256x256"),
    512: ("256x256@2x", "512x512"),
    1024: ("512x512@2x",),
}


def render(renderer: QSvgRenderer, size: int) -> QImage:
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    return image


def png_bytes(image: QImage) -> bytes:
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    return bytes(data.data())


def write_ico(images: list[QImage], path: Path) -> None:
    """An ICO with PNG-compressed entries (Windows Vista and later read them)."""
    entries = [png_bytes(image) for image in images]
    header = (0).to_bytes(2, "little") + (1).to_bytes(2, "little") + len(entries).to_bytes(2, "little")
    offset = 6 + 16 * len(entries)
    directory, blobs = b"", b""
    for image, blob in zip(images, entries, strict=True):
        side = image.width() if image.width() < 256 else 0  # 0 means 256
        directory += bytes([side, side, 0, 0]) + (1).to_bytes(2, "little") + (32).to_bytes(2, "little")
        directory += len(blob).to_bytes(4, "little") + offset.to_bytes(4, "little")
        offset += len(blob)
        blobs += blob
    path.write_bytes(header + directory + blobs)


def main(argv: list[str]) -> int:
    out = Path(argv[1] if len(argv) > 1 else ROOT / "build" / "icons")
    app = QGuiApplication([argv[0]])  # noqa: F841 (QPainter needs it)
    renderer = QSvgRenderer(str(SOURCE))
    if not renderer.isValid():
        print(f"cannot read {SOURCE}", file=sys.stderr)
        return 1
    for size in HICOLOR_SIZES:
        target = out / "hicolor" / f"{size}x{size}" / "apps" / "softphone.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        render(renderer, size).save(str(target), "PNG")
    scalable = out / "hicolor" / "scalable" / "apps" / "softphone.svg"
    scalable.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(SOURCE, scalable)
    write_ico([render(renderer, size) for size in ICO_SIZES], out / "softphone.ico")
    iconset = out / "softphone.iconset"
    iconset.mkdir(parents=True, exist_ok=True)
    for size, names in ICONSET.items():
        image = render(renderer, size)
        for name in names:
            image.save(str(iconset / f"icon_{name}.png"), "PNG")
    print(f"icons in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
