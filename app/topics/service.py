"""Topics: a facilitator seeds one topic into many workspaces at once and follows it across cities."""

import functools
from dataclasses import dataclass

from sqlalchemy import bindparam
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.accounts.models import User
from app.core import markdown
from app.core.forms import FormError, clean_date, clean_text
from app.core.i18n import _
from app.core.taxonomy import taxonomy
from app.network.models import City, Network, NetworkCity
from app.topics.models import Topic, TopicSeed
from app.workspaces import service as workspace_service
from app.workspaces.models import Workspace, WorkspaceCity

TITLE_MAX = 200
BRIEF_MAX = 10_000


@dataclass
class TopicInput:
    title: str = ""
    brief: str = ""
    phase: str = ""
    categories: tuple[str, ...] = ()
    challenges: tuple[str, ...] = ()
    opens_on: str = ""
    closes_on: str = ""


def clean(data: TopicInput, errors: dict[str, str] | None = None) -> dict:
    """The topic's values; raises FormError with every field's problem, and those already found."""
    errors = dict(errors or {})
    values = {
        "title": clean_text(data.title, field="title", errors=errors, max_length=TITLE_MAX),
        "brief": clean_text(data.brief, field="brief", errors=errors, max_length=BRIEF_MAX, required=False),
    }
    vocabulary = taxonomy()
    if vocabulary.phase(data.phase) is None:
        errors["phase"] = _("Choose a co-creation phase.")
    if any(key not in {t.key for t in vocabulary.categories} for key in data.categories):
        errors["categories"] = _("Choose categories from the list.")
    if any(key not in {t.key for t in vocabulary.challenges} for key in data.challenges):
        errors["challenges"] = _("Choose challenge areas from the list.")
    opens_on = clean_date(data.opens_on, field="opens_on", errors=errors)
    closes_on = clean_date(data.closes_on, field="closes_on", errors=errors)
    if opens_on and closes_on and closes_on < opens_on:
        errors["closes_on"] = _("The topic cannot close before it opens.")
    if errors:
        raise FormError(errors)
    return {
        **values,
        "brief_html": markdown.render(values["brief"]),
        "phase": data.phase,
        "categories": list(dict.fromkeys(data.categories)),
        "challenges": list(dict.fromkeys(data.challenges)),
        "opens_on": opens_on,
        "closes_on": closes_on,
    }


async def workspaces_for(
    *, session: AsyncSession, workspace_ids: set[int], network_key: str = "", region: str = ""
) -> list[Workspace]:
    """Open workspaces chosen one by one, plus those serving a city of a network (and region)."""
    statement = select(Workspace).where(col(Workspace.archived_at).is_(None))
    chosen = col(Workspace.id).in_(workspace_ids) if workspace_ids else None
    if network_key:
        cities = (
            select(NetworkCity.city_id)
            .join(Network, col(Network.id) == NetworkCity.network_id)
            .where(Network.key == network_key)
        )
        if region:
            cities = cities.join(City, col(City.id) == NetworkCity.city_id).where(
                func.lower(City.region) == region.strip().lower()
            )
        by_network = col(Workspace.id).in_(
            select(WorkspaceCity.workspace_id).where(col(WorkspaceCity.city_id).in_(cities))
        )
        chosen = by_network if chosen is None else (chosen | by_network)
    if chosen is None:
        return []
    return list((await session.exec(statement.where(chosen).order_by(Workspace.id))).all())


async def region_errors(*, session: AsyncSession, network_key: str, region: str) -> dict[str, str]:
    """A region narrows a network's cities; it must name the region of one of them."""
    if not region.strip():
        return {}
    if not network_key:
        return {"region": _("Choose the network whose cities are in this region.")}
    known = await session.exec(
        select(City.id)
        .join(NetworkCity, col(NetworkCity.city_id) == City.id)
        .join(Network, col(Network.id) == NetworkCity.network_id)
        .where(Network.key == network_key, func.lower(City.region) == region.strip().lower())
        .limit(1)
    )
    if known.first() is None:
        return {
            "region": _(
                "No city of this network is in “%(region)s”. Choose a suggested region.", region=region
            )
        }
    return {}


async def seed(
    *,
    session: AsyncSession,
    facilitator: User,
    data: TopicInput,
    workspaces: list[Workspace],
    where_errors: dict[str, str] | None = None,
) -> TopicSeed:
    """One topic, copied into every chosen workspace in one transaction; the copies share a seed.
    ``where_errors`` are the problems already found with where it goes (region_errors)."""
    values = clean(data, where_errors)
    if not workspaces:
        raise FormError({"workspaces": _("Choose at least one open workspace, or a network.")})
    topic_seed = TopicSeed(created_by_id=facilitator.id)
    session.add(topic_seed)
    await session.flush()
    for workspace in workspaces:
        topic = Topic(
            **values, workspace_id=workspace.id, seed_id=topic_seed.id, created_by_id=facilitator.id
        )
        session.add(topic)
        await session.flush()
        workspace_service.record_activity(
            session,
            workspace_id=workspace.id,
            actor_id=facilitator.id,
            kind="topic_seeded",
            topic_id=topic.id,
        )
    await session.flush()
    return topic_seed


@functools.cache
def _topics_statement():
    return (
        select(Topic)
        .where(col(Topic.workspace_id) == bindparam("workspace_id"))
        .order_by(col(Topic.id).desc())
    )


async def topics_of(*, session: AsyncSession, workspace_id: int) -> list[Topic]:
    return list((await session.exec(_topics_statement(), params={"workspace_id": workspace_id})).all())


async def get(*, session: AsyncSession, topic_id: int) -> Topic | None:
    return await session.get(Topic, topic_id)
