"""Campaign posters (step 2 of PAKET): a printable village poster with a QR code to follow it.

The QR code comes from segno, the picture from Pillow, the PDFs from reportlab with real text,
so a village office can print them sharp at any size.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import segno
from PIL import Image, ImageDraw, ImageFont
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas

# A wide banner (spanduk) in the common 3 m x 1 m proportion, at a printable PDF size.
BANNER = (900 * mm, 300 * mm)
PNG_SIZE = (1240, 1754)  # A4 at 150 dpi


@dataclass(frozen=True)
class PosterText:
    """Everything printed, already translated by the caller."""

    heading: str
    village: str
    place: str
    pitch: str
    scan: str
    link: str


@dataclass(frozen=True)
class Poster:
    png: bytes
    pdf_a4: bytes
    pdf_banner: bytes


def qr_image(link: str, scale: int) -> Image.Image:
    buffer = io.BytesIO()
    segno.make(link, error="m").save(buffer, kind="png", scale=scale, border=4)
    buffer.seek(0)
    return Image.open(buffer).convert("RGB")


def _png(text: PosterText) -> bytes:
    width = PNG_SIZE[0]
    image = Image.new("RGB", PNG_SIZE, "white")
    draw = ImageDraw.Draw(image)
    green = (21, 101, 52)
    draw.rectangle([0, 0, width, 180], fill=green)

    def centred(y: int, line: str, size: int, fill: tuple[int, int, int] = (0, 0, 0)) -> None:
        font = ImageFont.load_default(size=size)
        left, _, right, _ = draw.textbbox((0, 0), line, font=font)
        draw.text(((width - (right - left)) / 2, y), line, font=font, fill=fill)

    centred(55, text.heading, 64, (255, 255, 255))
    centred(260, text.village, 110)
    centred(410, text.place, 48)
    for index, line in enumerate(_wrap(text.pitch, 48)):
        centred(520 + index * 56, line, 40)
    code = qr_image(text.link, scale=14)
    image.paste(code, ((width - code.width) // 2, 760))
    centred(760 + code.height + 30, text.scan, 40)
    centred(760 + code.height + 90, text.link, 30, (60, 60, 60))
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _pdf(text: PosterText, size: tuple[float, float]) -> bytes:
    width, height = size
    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=size)
    pdf.setTitle(f"{text.heading} - {text.village}")
    unit = min(width, height) / 100  # scale everything to the short side
    pdf.setFillColorRGB(21 / 255, 101 / 255, 52 / 255)
    pdf.rect(0, height - 12 * unit, width, 12 * unit, stroke=0, fill=1)
    pdf.setFillColorRGB(1, 1, 1)
    pdf.setFont("Helvetica-Bold", 5 * unit)
    pdf.drawCentredString(width / 2, height - 8 * unit, text.heading)
    wide = width > height
    code = ImageReader(qr_image(text.link, scale=20))
    side = (70 if wide else 55) * unit
    text_x = width * 0.36 if wide else width / 2
    pdf.setFillColorRGB(0, 0, 0)
    top = height - (30 if wide else 26) * unit
    pdf.setFont("Helvetica-Bold", (11 if wide else 9) * unit)
    pdf.drawCentredString(text_x, top, text.village)
    pdf.setFont("Helvetica", 4 * unit)
    pdf.drawCentredString(text_x, top - 8 * unit, text.place)
    pdf.setFont("Helvetica", 3.2 * unit)
    for index, line in enumerate(_wrap(text.pitch, 60 if wide else 48)):
        pdf.drawCentredString(text_x, top - (16 + 4.5 * index) * unit, line)
    if wide:
        qr_x, qr_y = width * 0.72 - side / 2, (height - 12 * unit - side) / 2
    else:
        qr_x, qr_y = (width - side) / 2, 20 * unit
    pdf.drawImage(code, qr_x, qr_y, side, side)
    pdf.setFont("Helvetica", 3 * unit)
    pdf.drawCentredString(qr_x + side / 2, qr_y - 4 * unit, text.scan)
    pdf.setFont("Helvetica", 2.2 * unit)
    pdf.drawCentredString(qr_x + side / 2, qr_y - 8 * unit, text.link)
    pdf.showPage()
    pdf.save()
    return out.getvalue()


def _wrap(line: str, width: int) -> list[str]:
    words, lines, current = line.split(), [], ""
    for word in words:
        candidate = f"{current} {word}".strip()
        if len(candidate) > width and current:
            lines.append(current)
            current = word
        else:
            current = candidate
    return [*lines, current] if current else lines


def render(text: PosterText) -> Poster:
    return Poster(_png(text), _pdf(text, A4), _pdf(text, landscape(BANNER)))
