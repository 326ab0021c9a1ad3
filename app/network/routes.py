"""The home page, the public Network page with its map, and the admin's city import."""

import logging
from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, File, HTTPException, Request, UploadFile
from fastapi.responses import JSONResponse

from app.accounts.deps import AdminUser, CurrentUser
from app.core import i18n
from app.core.deps import SessionDep, SettingsDep, rate_limited
from app.core.i18n import _
from app.core.templating import render
from app.network import geocoder
from app.network import service as network_service

logger = logging.getLogger("cocreate")
router = APIRouter()

MAX_CSV_BYTES = 1024 * 1024


def _map_points(listings: list[network_service.NetworkListing]) -> list[dict]:
    """One point per city, naming every network it belongs to; read by static/js/map.js."""
    points: dict[int, dict] = {}
    for listing in listings:
        for city, _role in listing.members:
            point = points.setdefault(
                city.id,
                {
                    "name": city.name_en,
                    "local": city.name_local if city.name_local != city.name_en else "",
                    "lat": city.latitude,
                    "lng": city.longitude,
                    "networks": [],
                },
            )
            point["networks"].append(listing.network.key)
    return list(points.values())


@router.get("/")
async def home(request: Request, session: SessionDep):
    listings = await network_service.list_networks(session=session)
    return render(
        request,
        "network/home.html",
        {
            "listings": listings,
            "city_count": len({city.id for item in listings for city, _ in item.members}),
        },
    )


@router.get("/network")
async def network_page(request: Request, session: SessionDep):
    listings = await network_service.list_networks(session=session)
    organisations = await network_service.list_organisations(session=session)
    return render(
        request,
        "network/network.html",
        {
            "listings": listings,
            "organisations": organisations,
            "map_points": _map_points(listings),
            "role_labels": network_service.ROLE_LABELS,
            "kind_labels": network_service.ORGANISATION_KIND_LABELS,
            "region_name": network_service.region_name,
        },
    )


def _import_page(request: Request, *, errors=None, parsed=None, report=None, status_code: int = 200):
    context = {
        "errors": errors or {},
        "parsed": parsed,
        "report": report,
        "columns": network_service.CSV_COLUMNS,
        "networks": list(network_service.KNOWN_NETWORKS),
        "roles": [str(role) for role in network_service.ROLE_LABELS],
    }
    return render(request, "network/import.html", context, status_code=status_code)


@router.get("/admin/cities/import")
async def import_form(request: Request, admin: AdminUser):
    return _import_page(request)


@router.post("/admin/cities/import")
async def import_cities(
    request: Request,
    session: SessionDep,
    admin: AdminUser,
    file: Annotated[UploadFile | None, File()] = None,
):
    def again(errors: dict[str, str], parsed=None):
        return _import_page(request, errors=errors, parsed=parsed, status_code=422)

    if file is None or not file.filename:
        return again({"file": _("Choose a CSV file to import.")})
    data = await file.read(MAX_CSV_BYTES + 1)
    if len(data) > MAX_CSV_BYTES:
        return again({"file": _("The file is larger than 1 MB.")})
    try:
        parsed = network_service.parse_cities_csv(data)
    except network_service.CsvFileError as error:
        return again({"file": str(error)})
    if parsed.rejected:
        return again(
            {"file": _("Nothing was imported: fix the rows below and upload the file again.")},
            parsed,
        )
    if not parsed.rows:
        return again({"file": _("The file has no rows to import.")})
    report = await network_service.import_cities(session=session, rows=parsed.rows)
    return _import_page(request, parsed=parsed, report=report)


@router.get("/places/search", dependencies=[rate_limited("place_search")])
async def place_search(settings: SettingsDep, user: CurrentUser, q: str = ""):
    """Places matching a name, from the deployment's geocoder, for the place picker (signed-in
    people only: the server is no open way to the geocoder)."""
    if not settings.geocoder_url:
        raise HTTPException(status_code=404)
    query = " ".join(q.split())[: geocoder.QUERY_MAX]
    if not query:
        return JSONResponse({"detail": _("Type the name of a place.")}, status_code=422)
    try:
        places = await geocoder.search(
            url=settings.geocoder_url,
            query=query,
            language="zh-CN" if i18n.get_language() == "zh" else "en",
            user_agent=f"cocreate ({settings.base_url})",
        )
    except geocoder.GeocoderError as error:
        logger.warning("place search failed: %s", error)
        return JSONResponse(
            {"detail": _("The place search is not answering. Pick the place on the map instead.")},
            status_code=503,
        )
    return {"places": [asdict(place) for place in places]}
