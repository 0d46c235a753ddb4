"""Test documents with known text: a PNG and a PDF rendered with Pillow (DejaVu Sans)."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

FONT_PATHS = ("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
              "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


def _font(size: int) -> ImageFont.ImageFont:
    for path in FONT_PATHS:
        if Path(path).exists():
            return ImageFont.truetype(path, size)
    return ImageFont.load_default(size=size)


def render(lines: list[str], size: int = 40) -> Image.Image:
    """Black text lines on white, large enough for OCR."""
    font = _font(size)
    width = max(int(font.getlength(ln)) for ln in lines) + 80
    img = Image.new("RGB", (width, (size + 20) * len(lines) + 60), "white")
    draw = ImageDraw.Draw(img)
    for i, line in enumerate(lines):
        draw.text((40, 30 + i * (size + 20)), line, fill="black", font=font)
    return img


def render_png(lines: list[str]) -> bytes:
    """PNG bytes of the text lines."""
    buf = io.BytesIO()
    render(lines).save(buf, "PNG")
    return buf.getvalue()


def render_pdf(lines: list[str]) -> bytes:
    """A one-page PDF (image page) of the text lines."""
    buf = io.BytesIO()
    render(lines).save(buf, "PDF", resolution=100.0)
    return buf.getvalue()
