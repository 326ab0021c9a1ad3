"""Finds markup in a page that came from hostile text (tests/security/payloads.py) rather than from
the app's own templates.

The app's templates put no event handler, inline style, frame, object or ``<style>`` anywhere, and
give every ``<script>`` the page's nonce (or make it JSON data). So any of those in a page, a URL that
runs code or points at the payloads' own addresses, or ``pwn`` in an attribute that does not only hold
text (a class, an ``hx-*`` attribute; not a form field's value or a title), is a payload that was
rendered as markup."""

import json
import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

from tests.security.payloads import EVALUATED, MARKER

# Attributes whose value is only ever text (escaped user input may sit there), and the page's random
# nonce (which now and then spells the marker).
TEXT_ATTRIBUTES = {"value", "title", "alt", "aria-label", "placeholder", "content", "data-label", "nonce"}
URL_ATTRIBUTES = {
    "href",
    "src",
    "action",
    "formaction",
    "data",
    "poster",
    "background",
    "xlink:href",
    "cite",
    "ping",
    "codebase",
    "srcset",
    "hx-get",
    "hx-post",
    "hx-put",
    "hx-patch",
    "hx-delete",
    "hx-push-url",
    "sse-connect",
}
FORBIDDEN_TAGS = {"iframe", "frame", "frameset", "object", "embed", "applet", "base", "style", "link"}
RUNNING_SCHEMES = ("javascript:", "vbscript:", "data:")
_INVISIBLE = re.compile(r"[\x00-\x20\x7f]+")


def hostile_address(url: str) -> bool:
    """The payloads' own addresses: ``/pwned...`` on this site, or the evil example site."""
    parts = urlsplit(url.strip())
    return parts.path.lower().startswith("/" + MARKER) or "evil.example" in parts.netloc.lower()


def runs_code(url: str) -> bool:
    """Whether a browser would run this URL (it drops control characters and spaces first)."""
    return _INVISIBLE.sub("", url).lower().startswith(RUNNING_SCHEMES)


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs) -> None:
        self.parts.extend(value for _name, value in attrs if value)

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def words(text: str) -> str:
    """The text with every run of white space (line breaks and separators too) as one space."""
    return " ".join(text.split())


def shown_text(html: str) -> str:
    """What a page shows as text, its attributes' values included, for finding payloads shown whole."""
    parser = _Text()
    parser.feed(html)
    parser.close()
    return words(" ".join(parser.parts))


class _Finder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self._script: dict | None = None
        self._head = True

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        shown = self.get_starttag_text() or tag
        if tag == "body":
            self._head = False
        if tag in FORBIDDEN_TAGS and not (tag == "link" and self._head):
            self.problems.append(f"a <{tag}> element: {shown}")
        for name, value in attrs:
            value = value or ""
            if name.startswith("on"):
                self.problems.append(f"an event handler: {shown}")
            elif name in URL_ATTRIBUTES or name.startswith("data-hx-"):
                if runs_code(value) or hostile_address(value):
                    self.problems.append(f"a hostile URL in {name}: {shown}")
            elif name == "http-equiv":
                self.problems.append(f"a <meta http-equiv>: {shown}")
            elif name not in TEXT_ATTRIBUTES and MARKER in value.lower():
                self.problems.append(f"hostile text in the attribute {name}: {shown}")
        if tag == "script":
            kinds = dict(attrs)
            if "nonce" not in kinds and kinds.get("type") != "application/json":
                self.problems.append(f"a script without the page's nonce: {shown}")
            self._script = {"json": kinds.get("type") == "application/json", "text": ""}

    def handle_startendtag(self, tag, attrs) -> None:
        self.handle_starttag(tag, attrs)
        if tag == "script":
            self._script = None

    def handle_data(self, data: str) -> None:
        if self._script is not None:
            self._script["text"] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "head":
            self._head = False
        if tag == "script" and self._script is not None:
            script, self._script = self._script, None
            if script["json"]:
                try:
                    json.loads(script["text"] or "null")
                except ValueError:
                    self.problems.append("a JSON script block that does not parse (broken out of?)")
            elif MARKER in script["text"].lower():
                self.problems.append(f"hostile script: {script['text'][:80]!r}")


def live_markup(html: str) -> list[str]:
    """What in ``html`` is markup made from hostile text, or evaluated template text; [] when none."""
    finder = _Finder()
    finder.feed(html)
    finder.close()
    problems = finder.problems
    problems.extend(f"template text was evaluated: {found}" for found in EVALUATED if _as_word(found, html))
    return problems


def _as_word(found: str, html: str) -> bool:
    """Whether ``found`` stands on its own in ``html``: evaluated template text prints "51337" between
    spaces or tags, while a timestamp's microseconds (".513372") or a random token may hold the same
    digits inside a longer run of digits and letters."""
    return re.search(rf"(?<![0-9A-Za-z]){re.escape(found)}(?![0-9A-Za-z])", html) is not None
