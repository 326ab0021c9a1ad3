"""Hostile text in a real browser: the payloads of tests/security/payloads.py go in through the app's
own forms (a workspace of their own on the shared server), then Chromium opens every page that shows
them, follows the htmx swaps (comments posted, edited and put back, a vote, a search) and sits in the
live room while ideas and votes arrive over Server-Sent Events. Nothing may run: no ``window.__pwned``,
no dialog, no request to a payload's address, no Content-Security-Policy violation (which would mean
markup of theirs reached the page and only the policy stopped it), and no element of theirs in the DOM.
"""

import re
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import httpx
import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture skips (or fails in CI) and says why
    expect = None

from tests.attachments.files import png
from tests.e2e.test_workspaces import DEMO_PASSWORD, FACILITATOR, PASSWORD, log_in
from tests.security.payloads import BY_NAME, PAYLOADS, everything, packed, texts

pytestmark = pytest.mark.e2e

ANA = "ana@example.org"
HTMX = {"HX-Request": "true"}
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')

# Before any script of the page: a trap for the payloads' scripts, and a record of what the browser
# refused under the page's Content-Security-Policy.
TRAP = """
window.__hits = [];
Object.defineProperty(window, "__pwned", {
  set(value) { window.__hits.push("window.__pwned = " + value); },
  get() { return undefined; },
});
for (const name of ["alert", "confirm", "prompt"]) {
  window[name] = (message) => { window.__hits.push(name + "(" + message + ")"); };
}
document.addEventListener("securitypolicyviolation", (event) => {
  window.__hits.push("CSP refused " + event.violatedDirective + " " + event.blockedURI + " " + event.sample);
});
"""

# What of the payloads' markup is in the page: the same rules as tests/security/markup.py.
DOM_CHECK = """
() => {
  const text = new Set(["value", "title", "alt", "aria-label", "placeholder", "content", "data-label",
                        "nonce"]);
  const urls = new Set(["href", "src", "action", "formaction", "data", "poster", "xlink:href", "srcset",
                        "hx-get", "hx-post", "hx-put", "hx-patch", "hx-delete", "hx-push-url",
                        "sse-connect"]);
  const forbidden = ["iframe", "frame", "object", "embed", "base", "style"];
  const hostile = (value) => {
    const squeezed = value.replace(/[\\u0000-\\u0020\\u007f]+/g, "").toLowerCase();
    if (/^(javascript|vbscript|data):/.test(squeezed)) return true;
    try {
      const address = new URL(value, location.href);
      return address.pathname.toLowerCase().startsWith("/pwn") || address.hostname.includes("evil.example");
    } catch (error) {
      return false;
    }
  };
  const found = [];
  for (const element of document.querySelectorAll("*")) {
    const tag = element.tagName.toLowerCase();
    if (forbidden.includes(tag)) found.push("<" + tag + ">");
    if (tag === "script" && !element.nonce && element.type !== "application/json") found.push("a <script>");
    for (const { name, value } of element.attributes) {
      const what = tag + " " + name + "=" + value;
      if (name.startsWith("on")) found.push(what);
      else if (urls.has(name) || name.startsWith("data-hx-")) { if (hostile(value)) found.push(what); }
      else if (!text.has(name) && value.toLowerCase().includes("pwn")) found.push(what);
    }
  }
  return found;
}
"""


class Seeder:
    """A signed-in person sending the app's forms from outside the browser."""

    def __init__(self, base_url: str, email: str, password: str) -> None:
        self.client = httpx.Client(base_url=base_url, timeout=30)
        self.send("/login", {"email": email, "password": password}, expect=303)

    def send(self, url: str, data: dict | None = None, *, expect=303, **kwargs) -> httpx.Response:
        token = CSRF.search(self.client.get("/login" if url == "/login" else "/profile").text).group(1)
        response = self.client.post(url, data={"csrf_token": token, **(data or {})}, **kwargs)
        assert response.status_code == expect, (url, response.status_code, response.text[-2000:])
        return response

    def made(self, url: str, data: dict, **kwargs) -> int:
        location = self.send(url, data, **kwargs).headers["location"]
        return int(re.search(r"/(\d+)(?:[/?#].*)?$", location).group(1))


def _local(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M")


@pytest.fixture(scope="module")
def hostile(server_url):
    """A workspace full of hostile text, and the addresses of what it holds."""
    facilitator = Seeder(server_url, FACILITATOR, DEMO_PASSWORD)
    city = re.search(r'name="city_ids" value="(\d+)"', facilitator.client.get("/workspaces/new").text).group(
        1
    )
    title = packed(190)[0] + " " + uuid.uuid4().hex[:6]
    form = {
        "title_en": title,
        "title_zh": packed(200)[1],
        "summary_en": everything()[:5000],
        "visibility": "public",
        "join_policy": "open",
        "city_ids": [city],
    }
    slug = facilitator.send("/workspaces/new", form).headers["location"].removeprefix("/w/")
    base = f"/w/{slug}"
    facilitator.send(
        "/topics/seed",
        {
            "title": packed(200)[2],
            "brief": everything(),
            "phase": "co-design",
            "workspace_ids": [_workspace_id(facilitator)],
        },
    )

    # Someone with a hostile name, who joins and writes.
    named = httpx.Client(base_url=server_url, timeout=30)
    email = f"e2e-hostile-{uuid.uuid4().hex[:8]}@example.org"
    token = CSRF.search(named.get("/register").text).group(1)
    registered = named.post(
        "/register",
        data={
            "csrf_token": token,
            "email": email,
            "display_name": BY_NAME["double-quote"].text,
            "password": PASSWORD,
        },
    )
    assert registered.status_code == 303, registered.text[-2000:]
    writer = Seeder(server_url, email, PASSWORD)
    writer.send(f"{base}/join")
    ana = Seeder(server_url, ANA, DEMO_PASSWORD)
    ana.send(f"{base}/join")

    ideas = []
    for number, chunk in enumerate(packed(200)[:4]):
        files = [
            ("files", (name[:120] + ".png", png(1, 1), "image/png"))
            for name in texts()[number * 5 : number * 5 + 5]
        ]
        body = everything() if number == 0 else chunk.replace(" <", "\n\n<")
        ideas.append(
            writer.made(
                f"{base}/ideas/new",
                {"title": chunk, "body": body, "place_name": chunk, "latitude": "41.15", "longitude": "-8.6"},
                files=files,
            )
        )
    idea = f"{base}/ideas/{ideas[0]}"
    facilitator.send(f"{idea}/status", {"status": "shortlisted", "note": packed(2000)[0]})
    writer.send(f"{idea}/comments", {"body": everything()[:10_000]})
    for payload in PAYLOADS[:8]:
        ana.send(f"{idea}/comments", {"body": payload.text})
    hidden = (
        writer.send(f"{idea}/comments", {"body": packed(500)[3]})
        .headers["location"]
        .rsplit("#comment-", 1)[1]
    )
    facilitator.send(f"{base}/comments/{hidden}/hide", {"reason": packed(500)[0]})
    # An idea reported, one locked, one hidden with its author asking a review, and a member reported,
    # each with hostile text.
    notes = packed(500)
    ana.send(f"{base}/ideas/{ideas[1]}/report", {"reason": "other", "note": notes[5]})
    facilitator.send(f"{base}/ideas/{ideas[2]}/lock", {"reason": notes[1]})
    facilitator.send(f"{base}/ideas/{ideas[3]}/hide", {"reason": notes[2]})
    writer.send(f"{base}/ideas/{ideas[3]}/review", {"note": notes[4]})
    member_report = re.search(
        r'action="(/w/[^"]+/members/\d+/report)"', ana.client.get(f"{base}/members").text
    )
    ana.send(member_report.group(1), {"reason": "other", "note": notes[6]})

    now = datetime.now(UTC)
    agenda = [text.replace("\n", " ")[:200] for text in texts()][:30]
    session = facilitator.made(
        f"{base}/sessions/new",
        {
            "title": packed(200)[5],
            "description": everything(),
            "phase": "co-design",
            "mode": "hybrid",
            "place_name": packed(200)[6],
            "online_url": "https://meet.example.org/" + packed(200)[7],
            "time_zone": "UTC",
            "starts_at": _local(now - timedelta(minutes=10)),
            "ends_at": _local(now + timedelta(hours=2)),
            "agenda_title": agenda,
            "agenda_minutes": ["5"] * len(agenda),
        },
    )
    room = f"{base}/sessions/{session}"
    facilitator.send(f"{room}/status", {"status": "scheduled"})
    facilitator.send(f"{room}/status", {"status": "live"})
    ana.send(f"{room}/register")
    facilitator.send(f"{room}/minutes", {"minutes": everything(), "outcomes": everything()})

    options = [text.replace("\n", " ").replace("\r", " ").strip()[:200] for text in texts()]
    ballots = []
    for number in range(0, len(options), 25):
        ballots.append(
            facilitator.made(
                f"{base}/ballots/new",
                {
                    "question": packed(300)[number // 25],
                    "description": everything()[:4000],
                    "method": "approval",
                    "options_text": "\n".join(dict.fromkeys(options[number : number + 25])),
                    "closes_at": _local(now + timedelta(days=2)),
                    "results_visibility": "live",
                    "eligibility": "members",
                    "session_id": str(session),
                },
            )
        )
    return {
        "base": base,
        "ideas": [f"{base}/ideas/{number}" for number in ideas],
        "idea": idea,
        "session": room,
        "ballots": [f"{base}/ballots/{number}" for number in ballots],
        "writer": (email, PASSWORD),
        "facilitator": facilitator,
    }


def _workspace_id(seeder: Seeder) -> str:
    """The newest workspace's id, from the topic form's list of workspaces."""
    return max(
        re.findall(r'name="workspace_ids" value="(\d+)"', seeder.client.get("/topics/seed").text), key=int
    )


class Watch:
    """What a page did that it should not have."""

    def __init__(self, page) -> None:
        self.page = page
        self.events: list[str] = []
        page.on("dialog", lambda dialog: (self.events.append(f"dialog: {dialog.message}"), dialog.dismiss()))
        page.on("request", self._request)
        page.on("console", self._console)

    def _request(self, request) -> None:
        address = urlsplit(request.url)
        if address.path.lower().startswith("/pwn") or "evil.example" in address.netloc:
            self.events.append(f"request: {request.url}")

    def _console(self, message) -> None:
        if "Content Security Policy" in message.text:
            self.events.append(f"console: {message.text}")

    def check(self, where: str) -> None:
        self.page.wait_for_load_state("networkidle")
        hits = self.page.evaluate("() => window.__hits")
        markup = self.page.evaluate(DOM_CHECK)
        assert (self.events, hits, markup) == ([], [], []), where


def watched(new_context, email: str, password: str):
    context = new_context()
    context.add_init_script(TRAP)
    page = context.new_page()
    watch = Watch(page)
    log_in(page, email, password)
    return page, watch


def test_no_page_runs_hostile_text(new_context, hostile):
    page, watch = watched(new_context, ANA, DEMO_PASSWORD)
    base = hostile["base"]
    pages = [
        base,
        f"{base}/members",
        f"{base}/sessions",
        f"{base}/ballots",
        "/workspaces",
        "/notifications",
        hostile["session"],
        *hostile["ideas"],
        *hostile["ballots"],
    ]
    for url in pages:
        page.goto(url)
        # Open up to five folded forms (each click opens one, so the next closed one is first).
        for _ in range(5):
            closed = page.locator("main details:not([open]) > summary:visible")
            if not closed.count():
                break
            closed.first.click()
        watch.check(url)
    # The moderators' pages, and the author's own forms with the text back in their fields.
    staff, staff_watch = watched(new_context, FACILITATOR, DEMO_PASSWORD)
    for url in [
        f"{base}/moderation",
        "/moderation",
        "/audit",
        f"{hostile['session']}/edit",
        f"{hostile['session']}/minutes",
        f"{hostile['session']}/attendance",
        f"{base}/edit",
        f"{base}/members",
        f"{base}/moderation?state=review",
        hostile["ideas"][3],
    ]:
        staff.goto(url)
        staff_watch.check(url)
    writer, writer_watch = watched(new_context, *hostile["writer"])
    for url in ["/profile", f"{hostile['ideas'][1]}/edit", hostile["idea"], hostile["ideas"][3]]:
        writer.goto(url)
        writer_watch.check(url)


def test_htmx_swaps_bring_hostile_text_in_as_text(new_context, hostile):
    page, watch = watched(new_context, *hostile["writer"])
    page.goto(hostile["idea"])
    for payload in PAYLOADS[30:34]:
        form = page.locator("#new-comment")
        form.locator("textarea[name=body]").fill(payload.text)
        form.get_by_role("button", name="Post comment").click()
        expect(page.locator("#new-comment textarea[name=body]")).to_have_value("")
    watch.check("comments posted with htmx")
    mine = page.locator("li.comment").filter(has=page.get_by_role("link", name="Edit")).last
    comment_id = mine.get_attribute("id").removeprefix("comment-")
    comment = page.locator(f"#comment-{comment_id}")
    comment.get_by_role("link", name="Edit").click()
    comment.locator(f"#edit-body-{comment_id}").fill(everything()[:10_000])
    comment.get_by_role("button", name="Save comment").click()
    expect(comment.get_by_role("link", name="Edit")).to_be_visible()
    watch.check("a comment edited with htmx")
    comment.get_by_role("link", name="Edit").click()
    comment.get_by_role("link", name="Cancel").click()
    expect(comment.get_by_role("link", name="Edit")).to_be_visible()
    watch.check("an edit cancelled with htmx")

    page.goto("/search")
    for text in texts()[:6]:
        page.locator("#f-q").fill(text[:100])
        page.locator("#f-q").press("Enter")
        page.wait_for_load_state("networkidle")
    watch.check("searches swapped in by htmx")

    page.goto(hostile["ballots"][0])
    ballot = page.locator("form.vote-form")
    ballot.locator("input[type=checkbox]").first.check()
    ballot.locator("button[type=submit]").click()
    expect(page.get_by_text("Your vote has been recorded.")).to_be_visible()
    watch.check("a vote and its results swapped in by htmx")


def test_the_live_room_streams_hostile_ideas_agenda_and_results_as_text(new_context, hostile):
    page, watch = watched(new_context, ANA, DEMO_PASSWORD)
    room = hostile["session"] + "/live"
    page.goto(room)
    page.evaluate("() => { window.__stayed = 1; }")
    facilitator = hostile["facilitator"]
    titles = packed(200)[:6]
    for title in titles:
        facilitator.send(
            f"{room}/ideas", {"title": title, "body": title}, expect=204, headers={"HX-Request": "true"}
        )
    items = re.findall(r'name="item_id" value="(\d+)"', facilitator.client.get(room).text)
    facilitator.send(f"{room}/agenda", {"item_id": items[3]}, expect=204, headers={"HX-Request": "true"})
    for title in titles:
        expect(page.locator(".board-idea").filter(has_text=" ".join(title.split()[:2]))).not_to_have_count(0)
    expect(page.locator("#room-agenda li[aria-current=step]")).to_contain_text(texts()[3].split()[0])
    ballot = page.locator("form.vote-form").first
    ballot.locator("input[type=checkbox]").first.check()
    ballot.locator("button[type=submit]").click()
    expect(page.get_by_text("Your vote has been recorded.")).to_be_visible()
    assert page.evaluate("() => window.__stayed") == 1  # no reload: it all came over the stream
    watch.check("the live room")
