"""Seeding a topic into many workspaces at once, and the overview of a seeded topic across cities."""

from typing import Annotated

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse

from app.accounts.deps import user_allowed
from app.accounts.models import User
from app.core import i18n
from app.core.deps import RowId, SessionDep
from app.core.forms import FormError, form_text, whole_numbers
from app.core.i18n import _
from app.core.taxonomy import taxonomy
from app.core.templating import flash, render
from app.ideas import service as idea_service
from app.network import service as network_service
from app.topics import permissions
from app.topics import service as topic_service
from app.workspaces import service as workspace_service

Facilitator = Annotated[User, user_allowed(permissions.can_seed)]

router = APIRouter()


def _input(form) -> topic_service.TopicInput:
    def many(name: str) -> tuple[str, ...]:
        return tuple(v for v in form.getlist(name) if isinstance(v, str))[:50]

    return topic_service.TopicInput(
        title=form_text(form, "title"),
        brief=form_text(form, "brief"),
        phase=form_text(form, "phase"),
        categories=many("categories"),
        challenges=many("challenges"),
        opens_on=form_text(form, "opens_on"),
        closes_on=form_text(form, "closes_on"),
    )


async def _form_page(request, session, user, *, form, errors, status_code=200):
    listing = await workspace_service.list_visible(session=session, user=user, staff=True, page_size=2000)
    networks = await network_service.list_networks(session=session)
    language = i18n.get_language()
    # One suggestion per region, however many networks list it, in the reader's language.
    regions = sorted(
        {
            network_service.region_label(city.country_code, city.region, language)
            for listing_ in networks
            for city, _role in listing_.members
            if city.region
        }
    )
    return render(
        request,
        "topics/seed.html",
        {
            "form": form,
            "errors": errors,
            "taxonomy": taxonomy(),
            "workspaces": [w for w in listing.workspaces if not w.is_archived],
            "cities": listing.cities,
            "networks": [n.network for n in networks],
            "regions": regions,
        },
        status_code=status_code,
    )


@router.get("/topics/seed")
async def seed_form(request: Request, session: SessionDep, user: Facilitator):
    form = {"categories": [], "challenges": [], "workspace_ids": [], "phase": "co-diagnostic"}
    return await _form_page(request, session, user, form=form, errors={})


@router.post("/topics/seed")
async def seed_topic(request: Request, session: SessionDep, user: Facilitator):
    form = await request.form()
    data = _input(form)
    workspace_ids = set(whole_numbers(form.getlist("workspace_ids")))
    network_key = form_text(form, "network")[:40]
    region = form_text(form, "region")[:120]
    stored_region = network_service.region_from_input(region)
    workspaces = await topic_service.workspaces_for(
        session=session, workspace_ids=workspace_ids, network_key=network_key, region=stored_region
    )
    where_errors = await topic_service.region_errors(
        session=session, network_key=network_key, region=stored_region
    )
    try:
        topic_seed = await topic_service.seed(
            session=session, facilitator=user, data=data, workspaces=workspaces, where_errors=where_errors
        )
    except FormError as error:
        kept = {
            **vars(data),
            "workspace_ids": [str(i) for i in workspace_ids],
            "network": network_key,
            "region": region,
        }
        return await _form_page(request, session, user, form=kept, errors=error.errors, status_code=422)
    response = RedirectResponse(f"/topics/seeds/{topic_seed.id}", status_code=303)
    flash(
        request,
        response,
        _("The topic is seeded into %(count)s workspaces.", count=len(workspaces)),
        "success",
    )
    return response


@router.get("/topics/seeds/{seed_id}")
async def seed_overview(request: Request, session: SessionDep, user: Facilitator, seed_id: RowId):
    overview = await idea_service.seed_overview(session=session, seed_id=seed_id)
    if overview is None:
        raise HTTPException(status_code=404)
    return render(request, "topics/overview.html", {"overview": overview, "taxonomy": taxonomy()})
