"""What a file is, told from its first bytes (never from its name or the type the browser sent), and
the size of an image, read from its header without decoding it."""

import os
import struct
from dataclasses import dataclass
from typing import BinaryIO

HEAD_BYTES = 32


@dataclass(frozen=True)
class FileType:
    content_type: str
    extension: str
    # Extensions a file of this type may keep in its name; any other gets ``extension`` added.
    extensions: tuple[str, ...]
    label: str

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")


JPEG = FileType("image/jpeg", "jpg", ("jpg", "jpeg"), "JPEG")
PNG = FileType("image/png", "png", ("png",), "PNG")
WEBP = FileType("image/webp", "webp", ("webp",), "WebP")
PDF = FileType("application/pdf", "pdf", ("pdf",), "PDF")
TYPES = (JPEG, PNG, WEBP, PDF)


def sniff(head: bytes) -> FileType | None:
    """The type whose signature ``head`` (the first HEAD_BYTES of a file) starts with."""
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if head.startswith(b"%PDF-"):
        return PDF
    return None


def image_size(file_type: FileType, file: BinaryIO) -> tuple[int, int] | None:
    """(width, height) as the image is shown, or None when the header cannot be read."""
    file.seek(0)
    if file_type is JPEG:
        size = _jpeg_size(file)
    else:
        head = file.read(HEAD_BYTES)
        size = _png_size(head) if file_type is PNG else _webp_size(head) if file_type is WEBP else None
    return size if size and size[0] > 0 and size[1] > 0 else None


def _png_size(head: bytes) -> tuple[int, int] | None:
    if head[12:16] != b"IHDR" or len(head) < 24:
        return None
    return struct.unpack(">II", head[16:24])


def _webp_size(head: bytes) -> tuple[int, int] | None:
    chunk = head[12:16]
    if chunk == b"VP8 " and head[23:26] == b"\x9d\x01\x2a" and len(head) >= 30:
        width, height = struct.unpack("<HH", head[26:30])
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L" and head[20:21] == b"\x2f" and len(head) >= 25:
        (bits,) = struct.unpack("<I", head[21:25])
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X" and len(head) >= 30:
        return int.from_bytes(head[24:27], "little") + 1, int.from_bytes(head[27:30], "little") + 1
    return None


# Start-of-frame markers carry the image size; C4 (DHT), C8 (JPG) and CC (DAC) are not frames.
_SOF_MARKERS = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})
_STANDALONE_MARKERS = frozenset({0x01, 0xD8, *range(0xD0, 0xD8)})
_EXIF_ORIENTATION_TAG = 0x0112


def _jpeg_size(file: BinaryIO) -> tuple[int, int] | None:
    """Walks the segments up to the frame header; phone photos keep their pixels unrotated and say
    in EXIF how to turn them, so a quarter turn swaps width and height."""
    file.seek(2)
    orientation = 1
    while True:
        if file.read(1) != b"\xff":
            return None
        marker = file.read(1)
        while marker == b"\xff":
            marker = file.read(1)
        if not marker:
            return None
        code = marker[0]
        if code in _STANDALONE_MARKERS:
            continue
        if code in (0xD9, 0xDA):  # the end, or the scan data, before any frame header
            return None
        length_bytes = file.read(2)
        if len(length_bytes) < 2 or (length := int.from_bytes(length_bytes, "big")) < 2:
            return None
        if code in _SOF_MARKERS:
            frame = file.read(5)
            if len(frame) < 5:
                return None
            height, width = struct.unpack(">HH", frame[1:5])
            return (height, width) if orientation in (5, 6, 7, 8) else (width, height)
        if code == 0xE1 and orientation == 1:
            orientation = _exif_orientation(file.read(length - 2))
        else:
            file.seek(length - 2, os.SEEK_CUR)


def _exif_orientation(segment: bytes) -> int:
    if not segment.startswith(b"Exif\0\0"):
        return 1
    tiff = segment[6:]
    order = {b"II*\0": "<", b"MM\0*": ">"}.get(tiff[:4])
    if order is None:
        return 1
    try:
        (offset,) = struct.unpack_from(order + "I", tiff, 4)
        (entries,) = struct.unpack_from(order + "H", tiff, offset)
        for index in range(entries):
            tag, kind, _count, value = struct.unpack_from(order + "HHI4s", tiff, offset + 2 + 12 * index)
            if tag == _EXIF_ORIENTATION_TAG and kind == 3:  # a SHORT
                (orientation,) = struct.unpack_from(order + "H", value)
                return orientation if 1 <= orientation <= 8 else 1
    except struct.error:
        return 1
    return 1
