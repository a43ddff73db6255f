"""A chart's PNG placed in the PDF as it is: its compressed pixels become the image stream.

Why not reportlab's ``drawImage``: it decodes the PNG, hashes the raw pixels and deflates them
again, about 30 ms a chart. A PNG's IDAT chunks already are a zlib stream of filtered rows,
which PDF reads directly with ``/FlateDecode`` and the PNG predictor (``/Predictor 15``), so
the bytes the report's block carries go into the file untouched. Only what our own charts
write is accepted (8-bit palette or RGB, not interlaced, no transparency); anything else
falls back to reportlab's way.
"""

from __future__ import annotations

import hashlib
import io
import struct
from dataclasses import dataclass
from typing import Any

from reportlab.lib.utils import ImageReader
from reportlab.pdfbase.pdfdoc import PDFArray, PDFDictionary, PDFImageXObject, PDFName, PDFStream

_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_COLOURS = {2: ("DeviceRGB", 3), 3: ("Indexed", 1)}  # PNG colour type → space, components


@dataclass(frozen=True)
class Png:
    """What the PDF image needs from a PNG file."""

    width: int
    height: int
    colour_type: int
    idat: bytes
    palette: bytes = b""


def parse(data: bytes) -> Png | None:
    """The PNG's size, colour type, palette and pixel stream; None if it is not one we embed."""
    if not data.startswith(_SIGNATURE):
        return None
    pos, header, palette, idat = len(_SIGNATURE), None, b"", []
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        body = data[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"PLTE":
            palette = body
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"tRNS":
            return None  # transparency: not ours
    if header is None:
        return None
    width, height, depth, colour, _compression, _filter, interlace = header
    if depth != 8 or colour not in _COLOURS or interlace or (colour == 3 and not palette):
        return None
    return Png(width, height, colour, b"".join(idat), palette)


class PngXObject(PDFImageXObject):
    """An image XObject whose stream is a PNG's IDAT data (FlateDecode, PNG predictor)."""

    def __init__(self, name: str, png: Png) -> None:
        self.name = name
        self.png = png
        self.width, self.height = png.width, png.height
        self.mask = None

    def format(self, document: Any) -> bytes:
        png = self.png
        space, colours = _COLOURS[png.colour_type]
        stream = PDFStream(content=png.idat)
        d = stream.dictionary
        d["Type"] = PDFName("XObject")
        d["Subtype"] = PDFName("Image")
        d["Width"] = png.width
        d["Height"] = png.height
        d["BitsPerComponent"] = 8
        if space == "Indexed":
            entries = len(png.palette) // 3 - 1
            hex_palette = f"<{png.palette.hex()}>"
            d["ColorSpace"] = PDFArray(
                [PDFName("Indexed"), PDFName("DeviceRGB"), entries, hex_palette]
            )
        else:
            d["ColorSpace"] = PDFName(space)
        d["Filter"] = PDFName("FlateDecode")  # one filter, so DecodeParms is one dictionary
        d["DecodeParms"] = PDFDictionary(
            {"Predictor": 15, "Colors": colours, "BitsPerComponent": 8, "Columns": png.width}
        )
        d["Length"] = len(png.idat)
        return stream.format(document)  # a Filter is set: reportlab deflates nothing again


def draw_png(canvas: Any, data: bytes, width: float, height: float) -> None:
    """Draw PNG bytes at (0, 0) with the given size; each distinct PNG is stored once."""
    png = parse(data)
    if png is None:
        canvas.drawImage(ImageReader(io.BytesIO(data)), 0, 0, width, height)
        return
    name = "png" + hashlib.sha1(data).hexdigest()
    doc = canvas._doc  # reportlab's own drawImage registers images the same way
    reg_name = doc.getXObjectName(name)
    if reg_name not in doc.idToObject:
        image = PngXObject(name, png)
        doc.Reference(image, reg_name)
        doc.addForm(name, image)
    canvas.saveState()
    canvas.scale(width, height)
    canvas._code.append(f"/{reg_name} Do")
    canvas.restoreState()
    canvas._formsinuse.append(name)
