"""Hostile text: what an attacker types into every field a user can write.

Every payload that would do something if it were rendered as markup says so in a way the tests can
see: its script sets ``window.__pwned`` or calls ``alert``, its URLs start with ``/pwned`` or a
``javascript:``/``data:``/``vbscript:`` scheme, and its elements carry ``pwned`` in a class or an
attribute. Rendered as text (escaped) or sanitised away, none of it is markup: ``tests.security.markup``
finds what got through on the server, and the browser test (tests/e2e/test_hostile_payloads.py) finds
what ran.
"""

from dataclasses import dataclass

MARKER = "pwn"
# What template injection would print if a template evaluated user text: 7*7191, and a loop run twice.
EVALUATED = ("51337", "loopedlooped")


@dataclass(frozen=True)
class Payload:
    name: str
    text: str


PAYLOADS = [
    # Script elements and event handlers.
    Payload("script", "<script>window.__pwned='script'</script>"),
    Payload("script-src", '<script src="/pwned.js" class="pwned"></script>'),
    Payload("img-onerror", "<img src=x onerror=\"window.__pwned='img'\">"),
    Payload("svg-onload", "<svg onload=\"window.__pwned='svg'\"><circle r=1 /></svg>"),
    Payload("svg-script", "<svg><script>window.__pwned='svg-script'</script></svg>"),
    Payload("details-ontoggle", "<details open ontoggle=\"window.__pwned='details'\">x</details>"),
    Payload("autofocus-onfocus", "<input autofocus onfocus=\"window.__pwned='focus'\">"),
    Payload("mouseover", "<b onmouseover=\"alert('pwned-hover')\">hover me</b>"),
    Payload("iframe", "<iframe src=\"javascript:window.__pwned='iframe'\"></iframe>"),
    Payload("iframe-srcdoc", "<iframe srcdoc=\"<script>window.__pwned='srcdoc'</script>\"></iframe>"),
    Payload("object", "<object data=\"javascript:window.__pwned='object'\"></object>"),
    Payload("style-element", '<style>body{background:url("/pwned-style")}</style>'),
    Payload("style-attribute", '<p style="background:url(/pwned-style-attr)">styled</p>'),
    Payload(
        "form", '<form action="/logout" method="post" class="pwned-form"><button>Continue</button></form>'
    ),
    Payload("formaction", '<button form="x" formaction="/pwned-formaction">Go</button>'),
    Payload("meta-refresh", '<meta http-equiv="refresh" content="0;url=/pwned-meta">'),
    Payload("base", '<base href="https://evil.example/pwned/">'),
    # htmx runs these attributes on any element it processes, were they rendered as markup.
    Payload("hx-get", '<div hx-get="/pwned-hx" hx-trigger="load">htmx</div>'),
    Payload("hx-post-every", '<span hx-post="/logout" hx-trigger="every 1s" class="pwned-hx">x</span>'),
    Payload("hx-on", '<div hx-on:htmx:load="window.__pwned=\'hx-on\'" hx-get="/pwned-hx-on">x</div>'),
    Payload("data-hx", '<div data-hx-get="/pwned-data-hx" data-hx-trigger="load">data-hx</div>'),
    Payload("hx-sse", '<div hx-ext="sse" sse-connect="/pwned-sse" sse-swap="message">sse</div>'),
    # Links with schemes that run code.
    Payload("javascript-href", "<a href=\"javascript:window.__pwned='href'\">link</a>"),
    Payload("data-href", "<a href=\"data:text/html,<script>window.__pwned='data'</script>\">data</a>"),
    Payload("vbscript-href", "<a href=\"vbscript:msgbox('pwned')\">vb</a>"),
    # The same in Markdown, where the bodies, briefs, descriptions and minutes are written.
    Payload("md-link", "[click me](javascript:window.__pwned='md')"),
    Payload("md-link-case", "[click me]( JaVaScRiPt:window.__pwned='md-case')"),
    Payload("md-link-entity", "[click me](&#106;avascript:window.__pwned='md-entity')"),
    Payload("md-link-colon-entity", "[click me](javascript&#58;window.__pwned='md-colon')"),
    Payload("md-link-tab", "[click me](java\tscript:window.__pwned='md-tab')"),
    Payload("md-reference", "[a reference][pwn]\n\n[pwn]: javascript:window.__pwned='md-ref'"),
    Payload("md-autolink", "<javascript:window.__pwned='md-autolink'>"),
    Payload("md-data-link", "[data](data:text/html;base64,PHNjcmlwdD53aW5kb3cuX19wd25lZD0xPC9zY3JpcHQ+)"),
    Payload("md-image", "![a picture](javascript:window.__pwned='md-image')"),
    Payload("md-image-attribute", "![x](x\"onerror=\"window.__pwned='md-image-attr')"),
    Payload(
        "md-html-block", '<div class="pwned">\n\n<img src=x onerror="window.__pwned=\'md-html\'">\n\n</div>'
    ),
    # Breaking out of an attribute, a text element or a script block.
    Payload("double-quote", '"><svg onload="window.__pwned=\'double-quote\'">'),
    Payload("single-quote", "'><img src=x onerror=window.__pwned='single-quote' class=pwned>"),
    Payload("unquoted", " onmouseover=window.__pwned='unquoted' class=pwned "),
    Payload("textarea-close", "</textarea><script>window.__pwned='textarea'</script>"),
    Payload("title-close", "</title><script>window.__pwned='title'</script>"),
    Payload("script-close", "</script><script>window.__pwned='script-close'</script>"),
    Payload("escaped-entities", "&lt;img src=x onerror=\"window.__pwned='double-unescape'\"&gt;"),
    Payload(
        "mutation",
        "<noscript><p title=\"</noscript><img src=x onerror=window.__pwned='mutation' class=pwned>\">",
    ),
    Payload("math", "<math><mtext><table><mglyph><style><img src=x onerror=alert('pwned-math')>"),
    # Template and format-string injection: printed as they are, never evaluated.
    Payload(
        "template", "{{7*7191}} {% for x in [1, 2] %}looped{% endfor %} ${7*7191} #{7*7191} <%= 7*7191 %>"
    ),
    Payload("format-string", "%(name)s %s %d {0} {name} {{}}"),
    # Unicode tricks.
    Payload("rtl-override", "Ana \u202ereversed text\u202c done \u2067isolate"),
    Payload("zero-width", "zero\u200bwidth\u200cnon\u200djoiner\u2060word\ufeffjoined"),
    Payload("homoglyphs", "Ingrid (IКЕD) аdmin"),
    Payload("line-separators", "line\u2028separator\u2029paragraph"),
    Payload("cjk", '绿色走廊 <b class="pwned">粗体</b>'),
    # Spreadsheet formulas, for the CSV exports.
    Payload("csv-formula", '=HYPERLINK("https://evil.example/pwned","click")'),
    Payload("csv-plus", "+1+1"),
    Payload("csv-minus", "-2+3+cmd|' /C calc'!A0"),
    Payload("csv-at", "@SUM(1+1)"),
    Payload("csv-tab", "\t=1+1"),
    # Header splitting, where text reaches a header (a file name, a redirect), and a calendar file.
    Payload("crlf", "line\r\nSet-Cookie: pwned=1"),
    Payload("ics", "walk\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nSUMMARY:pwned\r\nX-PWNED:1"),
]

BY_NAME = {payload.name: payload for payload in PAYLOADS}
# Refused outright (422), never stored: no database keeps a NUL in text.
NUL = "nul\x00byte"
# Longer than any field takes (the longest, minutes, takes 50,000 characters).
VERY_LONG = "A" * 60_000


def texts() -> list[str]:
    return [payload.text for payload in PAYLOADS]


def packed(max_length: int, *, separator: str = " ") -> list[str]:
    """Every payload, packed into as few texts as fit ``max_length`` (each payload whole)."""
    chunks: list[str] = []
    current = ""
    for text in texts():
        candidate = f"{current}{separator}{text}" if current else text
        if len(candidate) <= max_length:
            current = candidate
        else:
            chunks.append(current)
            current = text[:max_length]
    if current:
        chunks.append(current)
    return chunks


def everything(separator: str = "\n\n") -> str:
    """All payloads in one text, for the long (Markdown) fields."""
    return separator.join(texts())
