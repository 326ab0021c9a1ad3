"""Place names to coordinates, through the geocoder a deployment chooses (``COCREATE_GEOCODER_URL``).

None is set by default: then nothing leaves the server and the place picker has no search box. The
geocoder is asked by the server, never by the reader's browser, so readers' addresses are not sent
to it, and a deployment in mainland China can set one reachable there. It must answer as Nominatim's
``/search`` does (``format=jsonv2``): a list of places with ``display_name``, ``lat`` and ``lon``.
"""

from dataclasses import dataclass

import httpx

TIMEOUT_SECONDS = 5.0
RESULTS = 5
QUERY_MAX = 200


class GeocoderError(Exception):
    """The geocoder did not answer, or not with places."""


@dataclass(frozen=True)
class Place:
    name: str
    lat: float
    lng: float


def _place(item: object) -> Place | None:
    if not isinstance(item, dict):
        return None
    try:
        lat, lng = float(item["lat"]), float(item["lon"])
    except (KeyError, TypeError, ValueError):
        return None
    name = str(item.get("display_name") or "").strip()[:300]
    if not name or not (-90 <= lat <= 90 and -180 <= lng <= 180):
        return None
    return Place(name=name, lat=lat, lng=lng)


async def search(*, url: str, query: str, language: str, user_agent: str) -> list[Place]:
    params = {"q": query[:QUERY_MAX], "format": "jsonv2", "limit": str(RESULTS), "accept-language": language}
    try:
        async with httpx.AsyncClient(timeout=TIMEOUT_SECONDS, follow_redirects=False) as client:
            response = await client.get(url, params=params, headers={"User-Agent": user_agent})
        response.raise_for_status()
        items = response.json()
    except (httpx.HTTPError, ValueError) as error:
        raise GeocoderError(str(error)) from None
    if not isinstance(items, list):
        raise GeocoderError("the geocoder did not answer with a list")
    return [place for place in map(_place, items[:RESULTS]) if place is not None]
