"""A readable name for the device behind a User-Agent header, for the list of logged-in sessions."""

import re

from app.core.i18n import _

# Order matters: Edge and Opera say "Chrome" too, and Chrome says "Safari".
_BROWSERS = [
    ("MicroMessenger", "WeChat"),
    ("Edg", "Edge"),
    ("OPR", "Opera"),
    ("Firefox", "Firefox"),
    ("Chrome", "Chrome"),
    ("Chromium", "Chromium"),
    ("Safari", "Safari"),
]
_SYSTEMS = [
    ("Android", "Android"),
    ("iPhone", "iOS"),
    ("iPad", "iPadOS"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("CrOS", "ChromeOS"),
    ("HarmonyOS", "HarmonyOS"),
    ("Linux", "Linux"),
]


def _first(user_agent: str, table: list[tuple[str, str]]) -> str | None:
    for token, name in table:
        # No boundary in front: "HeadlessChrome" and "CriOS"-style prefixes still name the browser.
        if re.search(rf"{re.escape(token)}\b", user_agent):
            return name
    return None


def describe_device(user_agent: str) -> str:
    browser = _first(user_agent, _BROWSERS)
    system = _first(user_agent, _SYSTEMS)
    if browser and system:
        return _("%(browser)s on %(system)s", browser=browser, system=system)
    return browser or system or _("Unknown device")
