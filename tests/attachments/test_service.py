"""Telling a file's type by its bytes, reading image sizes from headers, cleaning names, storing."""

import io
import struct

import pytest

from app.attachments import content
from app.attachments import service as attachment_service
from app.attachments.storage import LocalStorage, new_key
from app.core.forms import FormError
from tests.attachments.files import PDF, jpeg, png


def webp(chunk: bytes, payload: bytes) -> bytes:
    body = b"WEBP" + chunk + struct.pack("<I", len(payload)) + payload
    return b"RIFF" + struct.pack("<I", len(body)) + body


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (jpeg(640, 480), content.JPEG),
        (png(), content.PNG),
        (webp(b"VP8X", bytes(10)), content.WEBP),
        (PDF, content.PDF),
        (b"MZ\x90\x00\x03\x00\x00\x00 This program cannot be run in DOS mode.", None),
        (
            b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
            None,
        ),
        (b"<!doctype html><html><script>alert(1)</script>", None),
        (b"GIF89a\x01\x00\x01\x00", None),
        (b"RIFF\x00\x00\x00\x00WAVEfmt ", None),
        (b"", None),
    ],
)
def test_the_type_comes_from_the_first_bytes(data, expected):
    assert content.sniff(data[: content.HEAD_BYTES]) is expected


@pytest.mark.parametrize(
    ("file_type", "data", "size"),
    [
        (content.PNG, png(3, 2), (3, 2)),
        (content.JPEG, jpeg(4032, 3024), (4032, 3024)),
        # A phone held upright: the pixels lie on their side and EXIF says to turn them.
        (content.JPEG, jpeg(4032, 3024, orientation=6), (3024, 4032)),
        (content.JPEG, jpeg(4032, 3024, orientation=3), (4032, 3024)),
        (content.WEBP, webp(b"VP8 ", b"\x50\x2a\x00\x9d\x01\x2a" + struct.pack("<HH", 800, 600)), (800, 600)),
        (content.WEBP, webp(b"VP8L", b"\x2f" + struct.pack("<I", (800 - 1) | (600 - 1) << 14)), (800, 600)),
        (
            content.WEBP,
            webp(b"VP8X", bytes(4) + (1919).to_bytes(3, "little") + (1079).to_bytes(3, "little")),
            (1920, 1080),
        ),
        (content.JPEG, b"\xff\xd8\xff\xe0\x00\x10JFIF", None),
        (content.PNG, b"\x89PNG\r\n\x1a\n" + bytes(24), None),
    ],
)
def test_image_sizes_are_read_from_the_headers(file_type, data, size):
    assert content.image_size(file_type, io.BytesIO(data)) == size


@pytest.mark.parametrize(
    ("name", "file_type", "expected"),
    [
        ("garden.png", content.PNG, "garden.png"),
        ("C:\\fakepath\\..\\Plan.PDF", content.PDF, "Plan.PDF"),
        ("../../etc/passwd", content.PDF, "passwd.pdf"),
        ("photo.jpeg", content.JPEG, "photo.jpeg"),
        ("photo.exe", content.JPEG, "photo.exe.jpg"),
        # Right-to-left override: "evil\u202egnp.exe" would show as "evilexe.png".
        ("evil\u202egnp.exe", content.PNG, "evilgnp.exe.png"),
        ("  many   spaces\n.png ", content.PNG, "many spaces.png"),
        ("...", content.PNG, "file.png"),
        ("花园 草图.webp", content.WEBP, "花园 草图.webp"),
        ("x" * 300 + ".png", content.PNG, "x" * 196 + ".png"),
    ],
)
def test_file_names_are_cleaned_and_end_in_the_right_extension(name, file_type, expected):
    cleaned = attachment_service.clean_filename(name, file_type)
    assert cleaned == expected
    assert len(cleaned) <= attachment_service.FILENAME_MAX


def test_every_problem_is_named_at_once():
    files = [
        attachment_service.FileInput("ok.png", io.BytesIO(png())),
        attachment_service.FileInput("virus.png", io.BytesIO(b"MZ\x90\x00")),
        attachment_service.FileInput("C:\\Downloads\\evil\u202egnp.exe", io.BytesIO(b"MZ\x90\x00")),
        attachment_service.FileInput(
            "huge.pdf", io.BytesIO(b"%PDF-" + bytes(attachment_service.MAX_FILE_BYTES))
        ),
        attachment_service.FileInput(
            "bomb.png", io.BytesIO(png(1, 1).replace(b"\0\0\0\x01\0\0\0\x01", b"\0\0\x27\x10\0\0\x27\x10", 1))
        ),
    ]
    with pytest.raises(FormError) as raised:
        attachment_service.check_files(files, existing=0)
    message = raised.value.errors["files"]
    assert "“virus.png” is not a JPEG, PNG or WebP image or a PDF." in message
    assert "“huge.pdf” is larger than 10 MB." in message
    assert "“bomb.png” has more than 50 megapixels." in message
    assert "“evilgnp.exe” is not a JPEG" in message and "\u202e" not in message
    assert "ok.png" not in message


def test_the_count_includes_the_files_an_idea_has():
    one = [attachment_service.FileInput("a.png", io.BytesIO(png()))]
    assert len(attachment_service.check_files(one * 2, existing=3)) == 2
    with pytest.raises(FormError, match="this one has 4 and you chose 2"):
        attachment_service.check_files(one * 2, existing=4)


def test_local_storage_writes_whole_files_under_server_keys(tmp_path):
    storage = LocalStorage(tmp_path / "uploads")
    key = new_key("png")
    storage.save(key, io.BytesIO(png()))
    assert storage.path(key).read_bytes() == png()
    assert [p.name for p in (tmp_path / "uploads").rglob("*") if p.is_file()] == [key]
    storage.delete(key)
    storage.delete(key)
    assert not storage.path(key).exists()
    for bad in ("../../etc/passwd", "garden.png", key.upper(), key + "/x"):
        with pytest.raises(ValueError, match="not a storage key"):
            storage.path(bad)


def test_a_failed_write_leaves_nothing(tmp_path):
    class Broken(io.BytesIO):
        def read(self, *args):
            raise OSError("disk full")

    storage = LocalStorage(tmp_path)
    with pytest.raises(OSError, match="disk full"):
        storage.save(new_key("pdf"), Broken(PDF))
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_sizes_read_in_the_reader_s_language():
    assert attachment_service.size_label(300) == "1 KB"
    assert attachment_service.size_label(1536) == "2 KB"
    assert attachment_service.size_label(int(2.5 * 1024 * 1024)) == "2.5 MB"
    assert attachment_service.size_label(10 * 1024 * 1024) == "10 MB"
