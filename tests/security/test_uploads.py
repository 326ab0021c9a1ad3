"""Files that lie about what they are: each is refused with a message naming it, or stored as what its
content is and served so that no browser runs it (the type found in its bytes, ``nosniff``, a download
for anything but a picture, the site's Content-Security-Policy) under a name the server tidied."""

import re
import struct
from dataclasses import dataclass

import pytest
from sqlmodel import select

from app.attachments.models import Attachment
from tests.attachments.files import PDF, jpeg, png

MB = 1024 * 1024
SCRIPT = b"<script>window.__pwned=1</script>"
HTML = b"<!doctype html><html><body>" + SCRIPT + b"</body></html>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="window.__pwned=1">' + SCRIPT + b"</svg>"
PDF_WITH_JAVASCRIPT = (
    b"%PDF-1.4\n"
    b"1 0 obj << /Type /Catalog /Pages 2 0 R /OpenAction 3 0 R >> endobj\n"
    b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n"
    b"3 0 obj << /Type /Action /S /JavaScript /JS (app.alert('pwned')) >> endobj\n"
    b"trailer << /Root 1 0 R >>\n%%EOF\n"
)


def jpeg_with_comment(comment: bytes) -> bytes:
    """A JPEG whose comment segment (COM) holds ``comment``."""
    picture = jpeg(2, 2)
    return picture[:2] + b"\xff\xfe" + struct.pack(">H", len(comment) + 2) + comment + picture[2:]


@dataclass(frozen=True)
class Upload:
    what: str
    filename: str
    data: bytes
    claimed: str = "image/png"
    # Refused: the message's end after the file's name. Stored: the name and type it is kept with.
    refused: str = ""
    kept_as: tuple[str, str] = ("", "")


NOT_ALLOWED = "” is not a JPEG, PNG or WebP image or a PDF."
UPLOADS = [
    Upload("an HTML page named .png", "invitation.png", HTML, refused=NOT_ALLOWED),
    Upload("an SVG with a script named .png", "logo.png", SVG, refused=NOT_ALLOWED),
    Upload("a script named .jpg", "photo.jpg", b"window.__pwned=1;//" + bytes(64), "image/jpeg", NOT_ALLOWED),
    Upload("an HTML page sent as a PDF", "plan.pdf", HTML + b"%PDF-1.4", "application/pdf", NOT_ALLOWED),
    Upload(
        "a PNG signature followed by HTML",
        "map.png",
        b"\x89PNG\r\n\x1a\n" + HTML,
        refused="” could not be read as an image.",
    ),
    Upload(
        "a WebP header followed by HTML",
        "map.webp",
        b"RIFF\0\0\0\0WEBP" + HTML,
        "image/webp",
        "” could not be read as an image.",
    ),
    Upload("an empty file", "empty.png", b"", refused="” is empty."),
    Upload("a file over 10 MB", "huge.png", png() + bytes(10 * MB), refused="” is larger than 10 MB."),
    Upload("a real PNG with a page after its end", "map.png", png() + HTML, kept_as=("map.png", "image/png")),
    Upload(
        "a JPEG with a script in a comment",
        "photo.jpg",
        jpeg_with_comment(HTML),
        "image/jpeg",
        kept_as=("photo.jpg", "image/jpeg"),
    ),
    Upload(
        "a page that starts like a PDF",
        "page.html",
        b"%PDF-1.4\n" + HTML,
        "text/html",
        kept_as=("page.html.pdf", "application/pdf"),
    ),
    Upload(
        "a PDF with JavaScript",
        "form.pdf",
        PDF_WITH_JAVASCRIPT,
        "application/pdf",
        kept_as=("form.pdf", "application/pdf"),
    ),
    Upload("a PNG sent as an HTML page", "x.png", png(), "text/html", kept_as=("x.png", "image/png")),
    Upload(
        "a PDF sent as a picture", "scan.png", PDF, "image/png", kept_as=("scan.png.pdf", "application/pdf")
    ),
    Upload("a double extension", "x.png.html", png(), kept_as=("x.png.html.png", "image/png")),
    Upload("a path in the name", "../../../etc/passwd.png", png(), kept_as=("passwd.png", "image/png")),
    Upload(
        "a Windows path in the name", "C:\\Users\\ana\\evil.png", png(), kept_as=("evil.png", "image/png")
    ),
    Upload(
        "control characters in the name",
        "ok\x00\x1b[31m\x07\t.png",
        png(),
        kept_as=("ok[31m.png", "image/png"),
    ),
    Upload(
        "a line break that starts a header in the name",
        'x.png"\r\nContent-Type: text/html\r\nX: "',
        png(),
        kept_as=("x.png", "image/png"),
    ),
    Upload(
        "a direction mark in the name", "photo\u202egnp.exe", png(), kept_as=("photognp.exe.png", "image/png")
    ),
    Upload("a name of dots", "....", png(), kept_as=("file.png", "image/png")),
    Upload(
        "a name 1,000 characters long", "a" * 1000 + ".png", png(), kept_as=("a" * 196 + ".png", "image/png")
    ),
]


async def post_with(world, upload: Upload):
    """The idea form with the file, its name sent as it is: a client library (and a browser) would
    percent-encode control characters, but anyone can write the bytes by hand."""
    boundary = "security-suite-boundary"
    fields = {"csrf_token": world.csrf("author"), "title": "A picture", "body": "See the file."}
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{upload.filename}"\r\n'
        f"Content-Type: {upload.claimed}\r\n\r\n".encode()
        + upload.data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    async with world.client("author") as client:
        return await client.post(
            world.url("/w/{slug}/ideas/new"),
            content=b"".join(parts),
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
        )


@pytest.mark.parametrize("upload", [u for u in UPLOADS if u.refused], ids=lambda u: u.what)
async def test_a_file_that_is_not_what_it_says_is_refused_by_name(world, baseline, upload):
    async with world.savepoint():
        response = await post_with(world, upload)
        assert response.status_code == 422
        name = re.sub(r"[^\w.]", "", upload.filename)
        assert f"“{name}{upload.refused}" in response.text
        assert "Choose your files again" in response.text
        assert await world.fingerprint() == baseline


@pytest.mark.parametrize("upload", [u for u in UPLOADS if u.kept_as[0]], ids=lambda u: u.what)
async def test_a_file_is_kept_as_what_its_content_is_and_served_so_that_nothing_runs(world, upload):
    filename, content_type = upload.kept_as
    async with world.savepoint():
        response = await post_with(world, upload)
        assert response.status_code == 303, response.text[-2000:]
        idea_id = int(response.headers["location"].rsplit("/", 1)[1])
        stored = (await world.session.exec(select(Attachment).where(Attachment.idea_id == idea_id))).one()
        assert (stored.filename, stored.content_type) == (filename, content_type)
        served = await world.get("member", f"/w/{{slug}}/ideas/{idea_id}/attachments/{stored.id}")
    assert served.status_code == 200 and served.content == upload.data
    headers = served.headers
    assert headers["content-type"] == content_type
    assert headers["x-content-type-options"] == "nosniff"
    disposition = headers["content-disposition"]
    assert disposition.startswith("inline;" if content_type.startswith("image/") else "attachment;")
    assert not re.search(r"[\r\n\x00]", disposition) and disposition.count('"') == 2
    csp = headers["content-security-policy"]
    assert "default-src 'self'" in csp and "object-src 'none'" in csp and "unsafe" not in csp


CSV_LIES = [
    ("a picture named .csv", "cities.csv", png(), "The file is not UTF-8 text"),
    ("a CSV with a NUL", "cities.csv", b"network,name_en\x00\n", "The file is not a CSV text file."),
    ("a page named .csv", "cities.csv", HTML, "Columns missing from the first line"),
    ("a CSV over 1 MB", "cities.csv", b"network," + b"x" * MB, "The file is larger than 1 MB."),
]


@pytest.mark.parametrize(("what", "filename", "data", "message"), CSV_LIES, ids=[lie[0] for lie in CSV_LIES])
async def test_the_city_import_refuses_a_file_that_is_no_csv(world, baseline, what, filename, data, message):
    async with world.savepoint():
        response = await world.post(
            "admin", "/admin/cities/import", files=[("file", (filename, data, "text/csv"))]
        )
        assert response.status_code == 422 and message in response.text
        assert await world.fingerprint() == baseline
