"""The home page, the public Network page with its map, and the admin's city import."""

from typing import Annotated

from fastapi import APIRouter, File, Request, UploadFile

from app.deps import AdminUser, SessionDep
from app.i18n import _
from app.network import service as network_service
from app.templating import render

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
