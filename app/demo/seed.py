"""Demo data: the network of cities from the bundled CSV, a few organisations and demo accounts."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.accounts import service as account_service
from app.accounts.models import Role, User
from app.cocreation import service as session_service
from app.comments import service as comment_service
from app.core.config import PACKAGE_DATA_DIR
from app.core.forms import local_datetime_input
from app.ideas import service as idea_service
from app.moderation import service as moderation_service
from app.network import service as network_service
from app.network.models import OrganisationKind
from app.topics import service as topic_service
from app.voting import rules as voting_rules
from app.voting import service as voting_service
from app.workspaces import service as workspace_service
from app.workspaces.models import JoinPolicy, Visibility

DEMO_NETWORK_CSV = PACKAGE_DATA_DIR / "network_demo.csv"
DEMO_PASSWORD = "green-corridor-2026"  # noqa: S105 (printed by seed-demo; development only)

# (name, Chinese name, kind, (country, city) or None, website)
DEMO_ORGANISATIONS = [
    (
        "IKED",
        "IKED 国际知识经济与企业发展组织",
        OrganisationKind.FACILITATOR,
        ("SE", "Stockholm"),
        "https://www.iked.org",
    ),
    (
        "Centre for Social Studies, University of Coimbra",
        "科英布拉大学社会研究中心",
        OrganisationKind.RESEARCH_CENTRE,
        None,
        "https://www.ces.uc.pt",
    ),
    ("Chinese Society for Urban Studies", "中国城市科学研究会", OrganisationKind.NGO, None, ""),
    ("Porto City Council", "波尔图市政府", OrganisationKind.CITY_AUTHORITY, ("PT", "Porto"), ""),
    ("Nantes Métropole", "南特大都会", OrganisationKind.CITY_AUTHORITY, ("FR", "Nantes"), ""),
    ("Sofia Municipality", "索非亚市政府", OrganisationKind.CITY_AUTHORITY, ("BG", "Sofia"), ""),
    (
        "Shenzhen Municipal Government",
        "深圳市人民政府",
        OrganisationKind.CITY_AUTHORITY,
        ("CN", "Shenzhen"),
        "",
    ),
    (
        "Hefei University of Technology",
        "合肥工业大学",
        OrganisationKind.UNIVERSITY,
        ("CN", "Hefei"),
        "",
    ),
]

# (email, display name, role, language, time zone)
DEMO_USERS = [
    ("admin@example.org", "Admin", Role.ADMIN, "en", "Europe/Stockholm"),
    ("facilitator@example.org", "Ingrid (IKED)", Role.FACILITATOR, "en", "Europe/Stockholm"),
    ("ana@example.org", "Ana Silva", Role.CITIZEN, "en", "Europe/Lisbon"),
    ("wei@example.org", "李伟", Role.CITIZEN, "zh", "Asia/Shanghai"),
]


# (English title, Chinese title, English summary, Chinese summary, visibility, join policy,
#  cities as (country, English name), members as emails)
DEMO_WORKSPACES = [
    (
        "Porto: Campanhã green corridor",
        "波尔图：坎帕尼亚绿色廊道",
        "How can the Campanhã neighbourhood link its parks, gardens and streams into one green corridor "
        "that people walk, play and grow food in?",
        "坎帕尼亚社区如何把公园、花园和溪流连成一条绿色廊道，让人们在其中散步、游戏、种植？",
        Visibility.PUBLIC,
        JoinPolicy.OPEN,
        [("PT", "Porto")],
        ["ana@example.org"],
    ),
    (
        "Shenzhen sponge-city pilot",
        "深圳海绵城市试点",
        "Rain gardens, permeable streets and wetlands for the districts that flood every summer.",
        "为每年夏天内涝的片区设计雨水花园、透水街道和湿地。",
        Visibility.MEMBERS,
        JoinPolicy.APPROVAL,
        [("CN", "Shenzhen")],
        ["wei@example.org"],
    ),
    (
        "Rivers as green corridors: Europe and Guangdong",
        "河流作为绿色廊道：欧洲与广东",
        "A cross-city group: Porto, Nantes, Guangzhou and Foshan compare how their rivers can become "
        "corridors for people and nature.",
        "跨城市小组：波尔图、南特、广州和佛山比较如何把河流变成人与自然共享的廊道。",
        Visibility.PUBLIC,
        JoinPolicy.APPROVAL,
        [("PT", "Porto"), ("FR", "Nantes"), ("CN", "Guangzhou"), ("CN", "Foshan (Nanhai)")],
        [],
    ),
]


@dataclass
class SeedReport:
    cities: network_service.ImportReport
    organisations: int
    users_created: list[str]
    workspaces_created: list[str]


async def is_empty(*, session: AsyncSession) -> bool:
    users = (await session.exec(select(func.count()).select_from(User))).one()
    return users == 0 and await network_service.count_cities(session=session) == 0


async def seed_demo(*, session: AsyncSession, with_users: bool) -> SeedReport:
    """Loads the demo network; idempotent, so running it twice changes nothing."""
    parsed = network_service.parse_cities_csv(DEMO_NETWORK_CSV.read_bytes())
    cities = await network_service.import_cities(session=session, rows=parsed.rows)
    for name, name_zh, kind, place, website in DEMO_ORGANISATIONS:
        city = None
        if place:
            city = await network_service.find_city(session=session, country_code=place[0], name_en=place[1])
        await network_service.upsert_organisation(
            session=session, name=name, name_zh=name_zh, kind=kind, city=city, website=website
        )
    await session.commit()
    created = []
    if with_users:
        for email, name, role, language, zone in DEMO_USERS:
            if await account_service.get_by_email(session=session, email=email):
                continue
            await account_service.create(
                session=session,
                email=email,
                display_name=name,
                password=DEMO_PASSWORD,
                locale=language,
                time_zone=zone,
                role=role,
            )
            created.append(email)
    workspaces = await _seed_workspaces(session) if with_users else []
    if workspaces:
        await _seed_conversation(session)
    return SeedReport(
        cities=cities,
        organisations=len(DEMO_ORGANISATIONS),
        users_created=created,
        workspaces_created=workspaces,
    )


async def _seed_workspaces(session: AsyncSession) -> list[str]:
    """Demo workspaces opened by the demo facilitator, with a few members; skips those that exist."""
    facilitator = await account_service.get_by_email(session=session, email="facilitator@example.org")
    created = []
    for title_en, title_zh, summary_en, summary_zh, visibility, policy, places, emails in DEMO_WORKSPACES:
        if await workspace_service.get_by_slug(session=session, slug=workspace_service.slugify(title_en)):
            continue
        cities = [
            await network_service.find_city(session=session, country_code=code, name_en=name)
            for code, name in places
        ]
        workspace = await workspace_service.create(
            session=session,
            creator=facilitator,
            data=workspace_service.WorkspaceInput(
                title_en=title_en,
                title_zh=title_zh,
                summary_en=summary_en,
                summary_zh=summary_zh,
                visibility=visibility,
                join_policy=policy,
                city_ids=tuple(str(city.id) for city in cities),
            ),
        )
        for email in emails:
            member = await account_service.get_by_email(session=session, email=email)
            await workspace_service.add_member(session=session, workspace=workspace, user=member)
        created.append(workspace.slug)
    return created


async def _seed_conversation(session: AsyncSession) -> None:
    """A topic seeded across the demo workspaces, a few ideas with supports and a short discussion."""
    people = {
        email: await account_service.get_by_email(session=session, email=email) for email, *_ in DEMO_USERS
    }
    facilitator, ana, wei = (
        people["facilitator@example.org"],
        people["ana@example.org"],
        people["wei@example.org"],
    )
    porto = await workspace_service.get_by_slug(session=session, slug="porto-campanha-green-corridor")
    shenzhen = await workspace_service.get_by_slug(session=session, slug="shenzhen-sponge-city-pilot")
    await topic_service.seed(
        session=session,
        facilitator=facilitator,
        data=topic_service.TopicInput(
            title="Where should water go when it rains hard?",
            brief="Walk your streets after heavy rain. Where does the water stand, and what could take it in?"
            " Note it here.",
            phase="co-diagnostic",
            categories=("territorial",),
            challenges=("water-management", "climate-resilience"),
        ),
        workspaces=[porto, shenzhen],
    )
    topics = {
        t.workspace_id: t
        for t in [
            *await topic_service.topics_of(session=session, workspace_id=porto.id),
            *await topic_service.topics_of(session=session, workspace_id=shenzhen.id),
        ]
    }
    corridor = await idea_service.create(
        session=session,
        workspace=porto,
        author=ana,
        data=idea_service.IdeaInput(
            title="A green corridor along the Rio Tinto",
            body="Link the **Campanhã** gardens to the river with a shaded path:\n\n- native trees\n"
            "- benches every 200 m\n- a rain garden where the street floods",
            tags=("territorial", "biodiversity", "health-wellbeing"),
            place_name="Rio Tinto, Campanhã",
            latitude="41.1521",
            longitude="-8.5840",
        ),
    )
    await idea_service.create(
        session=session,
        workspace=porto,
        author=facilitator,
        data=idea_service.IdeaInput(
            title="Rain gardens at the school gates",
            body="Where the water stands after rain, plant it instead.",
            tags=("water-management",),
            topic_id=str(topics[porto.id].id),
        ),
    )
    sponge = await idea_service.create(
        session=session,
        workspace=shenzhen,
        author=wei,
        data=idea_service.IdeaInput(
            title="建设绿色走廊连接社区",
            body="沿着河道种植本地树木，设置雨水花园，让下雨时的积水有处可去。",
            tags=("water-management", "climate-resilience"),
            topic_id=str(topics[shenzhen.id].id),
            place_name="深圳湾",
            latitude="22.5170",
            longitude="113.9420",
        ),
    )
    await idea_service.toggle_support(session=session, idea=corridor, user=facilitator)
    await idea_service.toggle_support(session=session, idea=sponge, user=facilitator)
    first = await comment_service.add(
        session=session,
        workspace=porto,
        idea=corridor,
        author=facilitator,
        body="Nantes did something similar along the Erdre; I can share what they learnt.",
    )
    await comment_service.add(
        session=session, workspace=porto, idea=corridor, author=ana, body="Yes please!", parent_id=first.id
    )
    # Something for the moderation queue: a neighbour's phone number, reported once (still shown).
    shared = await comment_service.add(
        session=session,
        workspace=porto,
        idea=corridor,
        author=ana,
        body="My neighbour Rui lends tools for planting days: call him on 912 345 678.",
    )
    await moderation_service.report_comment(
        session=session,
        workspace=porto,
        comment=shared,
        reporter=facilitator,
        reason="personal-data",
        note="Rui's phone number, posted without him.",
    )
    await _seed_sessions(session, facilitator=facilitator, ana=ana, wei=wei, porto=porto, shenzhen=shenzhen)


def _local(days: int, hour: int, zone: str) -> str:
    """A ``datetime-local`` value ``days`` from today at ``hour`` o'clock in ``zone``."""
    day = datetime.now(ZoneInfo(zone)) + timedelta(days=days)
    return local_datetime_input(day.replace(hour=hour, minute=0), zone)


async def _seed_sessions(session: AsyncSession, *, facilitator, ana, wei, porto, shenzhen) -> None:
    """A walk already held (with minutes), a workshop ahead in Porto and one in Shenzhen, and a ballot."""
    walk = await session_service.create(
        session=session,
        workspace=porto,
        author=facilitator,
        data=session_service.SessionInput(
            title="Co-diagnostic walk: where does the rain go?",
            description="We walked Campanhã after the storm and marked where water stands.",
            phase="co-diagnostic",
            mode="in-person",
            place_name="Campanhã station, main entrance",
            time_zone="Europe/Lisbon",
            starts_at=_local(-12, 10, "Europe/Lisbon"),
            ends_at=_local(-12, 12, "Europe/Lisbon"),
            capacity="30",
        ),
    )
    await session_service.set_status(session=session, cs=walk, status="scheduled", by=facilitator)
    await session_service.set_status(session=session, cs=walk, status="closed", by=facilitator)
    ideas = await session_service.linkable_ideas(session=session, cs=walk, chosen=[])
    await session_service.save_minutes(
        session=session,
        cs=walk,
        minutes="Eighteen neighbours walked for two hours. Water stands at the school gates and under the"
        " railway bridge.",
        outcomes="- Map the three worst spots\n- Bring rain-garden designs to the co-design workshop",
        idea_ids=[idea.id for idea in ideas],
    )
    workshop = await session_service.create(
        session=session,
        workspace=porto,
        author=facilitator,
        data=session_service.SessionInput(
            title="Co-design workshop: a green corridor for Campanhã",
            description="Bring your ideas and your maps. **Children welcome.**",
            phase="co-design",
            mode="hybrid",
            place_name="Junta de Freguesia de Campanhã",
            online_url="https://meet.example.org/campanha-corridor",
            time_zone="Europe/Lisbon",
            starts_at=_local(10, 18, "Europe/Lisbon"),
            ends_at=_local(10, 20, "Europe/Lisbon"),
            capacity="25",
            agenda=[
                session_service.AgendaInput("Welcome and what the walk found", "15"),
                session_service.AgendaInput("Ideas on the map", "45"),
                session_service.AgendaInput("Vote on what to take forward", "20"),
            ],
        ),
    )
    await session_service.set_status(session=session, cs=workshop, status="scheduled", by=facilitator)
    await session_service.register(session=session, cs=workshop, user=ana)
    await voting_service.create(
        session=session,
        workspace=porto,
        cs=None,
        author=facilitator,
        data=voting_rules.BallotInput(
            question="Which idea should the co-design workshop start with?",
            method="approval",
            idea_ids=[idea.id for idea in ideas],
            closes_at=_local(9, 23, "UTC"),
            results_visibility="after-vote",
        ),
    )
    pilot = await session_service.create(
        session=session,
        workspace=shenzhen,
        author=facilitator,
        data=session_service.SessionInput(
            title="海绵城市共创工作坊",
            description="一起讨论社区里哪些地方适合建设雨水花园。",
            phase="co-design",
            mode="in-person",
            place_name="深圳湾社区中心",
            time_zone="Asia/Shanghai",
            starts_at=_local(5, 14, "Asia/Shanghai"),
            ends_at=_local(5, 17, "Asia/Shanghai"),
            capacity="40",
            agenda=[
                session_service.AgendaInput("介绍", "10"),
                session_service.AgendaInput("分组讨论", "90"),
            ],
        ),
    )
    await session_service.set_status(session=session, cs=pilot, status="scheduled", by=facilitator)
    await session_service.register(session=session, cs=pilot, user=wei)
