"""A realistic network-scale data set: the Chinese prefecture-level cities and the URBiNAT cities,
about 3,000 workspaces, 100,000 ideas, 1,000,000 supports, 500,000 comments and 50,000 users.

Rows are written with bulk INSERTs in large batches, counts (members, ideas, supports, comments) are
worked out in memory and written once, and every user shares one password hash, so the whole set
loads in a few minutes. The random generator is seeded: the same seed gives the same data.
"""

import csv
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlmodel import func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.accounts.models import User
from app.comments.models import Comment
from app.core import markdown
from app.core.config import PACKAGE_DATA_DIR
from app.core.security import hash_password
from app.core.taxonomy import taxonomy
from app.ideas.models import Idea, IdeaStatus, IdeaTag, Support
from app.network import service as network_service
from app.network.models import City
from app.topics.models import Topic, TopicSeed
from app.workspaces.models import Membership, MemberStatus, Visibility, Workspace, WorkspaceCity
from app.workspaces.service import slugify

SCALE_EMAIL_DOMAIN = "scale.example.org"
SCALE_PASSWORD = "network-scale-2026"  # noqa: S105 (test data, printed by the command)
BATCH = 5_000


@dataclass(frozen=True)
class Scale:
    users: int = 50_000
    workspaces: int = 3_000
    ideas: int = 100_000
    supports: int = 1_000_000
    comments: int = 500_000
    memberships_per_user: int = 3


SCALES = {
    "network": Scale(),
    # The same shape, a hundredth of the size: for tests and a quick look.
    "small": Scale(users=500, workspaces=40, ideas=1_000, supports=10_000, comments=5_000),
}

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡"
    "余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯"
    "龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红娥玲芬燕彬鹏辉斌宇浩凯俊帆鑫欣怡佳雪琳晨阳"
WESTERN = [
    "Ana",
    "João",
    "Marie",
    "Luc",
    "Elena",
    "Marco",
    "Petra",
    "Jonas",
    "Sofia",
    "Ivan",
    "Lena",
    "Tomás",
    "Inês",
    "Camille",
    "Giulia",
    "Nikola",
    "Freja",
    "Mads",
    "Sara",
    "Pedro",
]
PLACES_ZH = ["河边", "老街", "学校旁", "公园里", "社区中心", "菜市场", "地铁站", "湖畔", "小区", "工业园"]
NBS_ZH = [
    "建设绿色走廊连接社区",
    "雨水花园",
    "屋顶绿化",
    "社区菜园",
    "透水铺装",
    "口袋公园",
    "湿地修复",
    "林荫步道",
    "生态停车场",
    "垂直绿化",
    "河道生态修复",
    "共享果园",
]
NBS_EN = [
    "Green corridor linking the neighbourhoods",
    "Rain garden",
    "Green roofs",
    "Community garden",
    "Permeable paving",
    "Pocket park",
    "Wetland restoration",
    "Shaded walking path",
    "Green schoolyard",
    "Living wall",
    "River restoration",
    "Shared orchard",
]
PLACES_EN = [
    "by the river",
    "on the old street",
    "next to the school",
    "in the park",
    "at the community centre",
    "near the market",
    "at the metro station",
    "by the lake",
]
COMMENTS_ZH = [
    "很好的想法，我支持！",
    "需要考虑维护费用。",
    "我们小区也需要这个。",
    "可以和学校合作。",
    "夏天这里很热，需要树荫。",
    "有没有类似的成功案例？",
    "我愿意当志愿者。",
]
COMMENTS_EN = [
    "Great idea, count me in.",
    "Who will look after it?",
    "We need this on our street too.",
    "Could the school take part?",
    "It gets very hot here in summer.",
    "Is there a similar project elsewhere?",
    "I can volunteer on weekends.",
]


def _batches(rows: Iterator[dict], size: int = BATCH) -> Iterator[list[dict]]:
    batch: list[dict] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _spread(rng: random.Random, amount: int, weights: list[float], cap: int) -> list[int]:
    """Shares ``amount`` out in proportion to ``weights``, no share above ``cap``, the total exact."""
    total = sum(weights)
    shares = [min(cap, int(amount * weight / total)) for weight in weights]
    missing = amount - sum(shares)
    while missing > 0:
        index = rng.randrange(len(shares))
        if shares[index] < cap:
            shares[index] += 1
            missing -= 1
    return shares


async def already_loaded(*, session: AsyncSession) -> bool:
    statement = select(func.count()).select_from(User).where(User.email.like(f"%@{SCALE_EMAIL_DOMAIN}"))
    return (await session.exec(statement)).one() > 0


async def _insert(session: AsyncSession, model, rows: Iterator[dict], progress: Callable[[int], None]) -> int:
    table = model.__table__
    written = 0
    for batch in _batches(rows):
        await session.exec(sa.insert(table), params=batch)
        written += len(batch)
        progress(len(batch))
    return written


async def _next_id(session: AsyncSession, model) -> int:
    return ((await session.exec(select(func.max(model.id)))).one() or 0) + 1


async def load(
    *,
    session: AsyncSession,
    scale: Scale,
    seed: int = 2026,
    progress: Callable[[str, int], None] = lambda step, n: None,
) -> dict[str, int]:
    """Writes the data set into a migrated database (the demo network is loaded first if missing)."""
    rng = random.Random(seed)  # noqa: S311 (test data, not secrets)
    now = datetime.now(UTC).replace(microsecond=0)
    vocabulary = taxonomy()
    tag_keys = [term.key for term in vocabulary.tags]

    # Cities: the demo network, then every Chinese prefecture-level city as an NSCJL member.
    rows = network_service.parse_cities_csv((PACKAGE_DATA_DIR / "network_demo.csv").read_bytes()).rows
    with (PACKAGE_DATA_DIR / "china_prefecture_cities.csv").open(encoding="utf-8", newline="") as file:
        extra = "\n".join(
            f"nscjl,{r['name_en']},{r['name_zh']},CN,{r['province_en']},member,{r['latitude']},{r['longitude']}"
            for r in csv.DictReader(file)
        )
    header = ",".join(network_service.CSV_COLUMNS)
    rows += network_service.parse_cities_csv(f"{header}\n{extra}\n".encode()).rows
    await network_service.import_cities(session=session, rows=rows)
    cities = list((await session.exec(select(City).order_by(City.id))).all())
    progress("cities", len(cities))

    # Users: one shared hash (argon2 per user would take longer than everything else together).
    password_hash = hash_password(SCALE_PASSWORD)
    first_user = await _next_id(session, User)
    user_ids = list(range(first_user, first_user + scale.users))

    def users() -> Iterator[dict]:
        for n, user_id in enumerate(user_ids):
            chinese = n % 4 != 0
            name = (
                (rng.choice(SURNAMES) + rng.choice(GIVEN) + (rng.choice(GIVEN) if n % 2 else ""))
                if chinese
                else (f"{rng.choice(WESTERN)} {chr(65 + n % 26)}.")
            )
            yield {
                "id": user_id,
                "email": f"user{n}@{SCALE_EMAIL_DOMAIN}",
                "display_name": name,
                "password_hash": password_hash,
                "locale": "zh" if chinese else "en",
                "time_zone": "Asia/Shanghai" if chinese else "Europe/Lisbon",
                "role": "citizen",
                "is_active": True,
                "created_at": now - timedelta(days=rng.randint(0, 700)),
                "updated_at": now,
            }

    await _insert(session, User, users(), lambda n: progress("users", n))

    # Workspaces: spread over the cities, larger cities getting several (districts, projects).
    first_workspace = await _next_id(session, Workspace)
    workspace_ids = list(range(first_workspace, first_workspace + scale.workspaces))
    workspace_city = {wid: cities[i % len(cities)] for i, wid in enumerate(workspace_ids)}
    # Skewed activity: a few busy workspaces, a long tail of quiet ones.
    weights = [1 / (rank + 1) ** 0.8 for rank in range(len(workspace_ids))]
    rng.shuffle(weights)

    members: dict[int, set[int]] = {wid: set() for wid in workspace_ids}
    for user_id in user_ids:
        for wid in rng.choices(workspace_ids, weights=weights, k=scale.memberships_per_user):
            members[wid].add(user_id)
    member_lists = {wid: sorted(users_) or [user_ids[0]] for wid, users_ in members.items()}
    for wid, users_ in member_lists.items():
        members[wid] = set(users_)

    idea_workspaces = rng.choices(workspace_ids, weights=weights, k=scale.ideas)
    idea_count: dict[int, int] = {}
    for wid in idea_workspaces:
        idea_count[wid] = idea_count.get(wid, 0) + 1

    def workspaces() -> Iterator[dict]:
        for n, wid in enumerate(workspace_ids):
            city = workspace_city[wid]
            district = n // len(cities) + 1
            yield {
                "id": wid,
                "slug": f"{city.country_code.lower()}-{slugify(city.name_en)}-{district}-{wid}",
                "title_en": f"{city.name_en} neighbourhood {district}",
                "title_zh": f"{city.name_local}第{district}社区" if city.country_code == "CN" else "",
                "summary_en": f"Nature-based solutions for {city.name_en}, district {district}.",
                "summary_zh": f"{city.name_local}第{district}片区的基于自然的解决方案。"
                if city.country_code == "CN"
                else "",
                "visibility": Visibility.MEMBERS if n % 10 == 9 else Visibility.PUBLIC,
                "join_policy": "approval" if n % 5 == 4 else "open",
                "created_at": now - timedelta(days=400),
                "updated_at": now,
                "member_count": len(members[wid]),
                "idea_count": idea_count.get(wid, 0),
            }

    await _insert(session, Workspace, workspaces(), lambda n: progress("workspaces", n))
    await _insert(
        session,
        WorkspaceCity,
        ({"workspace_id": wid, "city_id": workspace_city[wid].id} for wid in workspace_ids),
        lambda n: None,
    )
    await _insert(
        session,
        Membership,
        (
            {
                "workspace_id": wid,
                "user_id": uid,
                "role": "moderator" if i == 0 else "member",
                "status": MemberStatus.ACTIVE,
                "message": "",
                "created_at": now - timedelta(days=300),
            }
            for wid, users_ in member_lists.items()
            for i, uid in enumerate(users_)
        ),
        lambda n: progress("memberships", n),
    )

    # A few seeded topics, each in the workspaces of a province.
    topic_seed_id = await _next_id(session, TopicSeed)
    provinces = sorted({c.region for c in cities if c.country_code == "CN"})[:20]
    await _insert(
        session,
        TopicSeed,
        ({"id": topic_seed_id + i, "created_at": now} for i in range(len(provinces))),
        lambda n: None,
    )
    first_topic = await _next_id(session, Topic)
    topics_by_workspace: dict[int, int] = {}
    topic_rows = []
    for i, province in enumerate(provinces):
        for wid in workspace_ids:
            if workspace_city[wid].region == province:
                topic_id = first_topic + len(topic_rows)
                topics_by_workspace[wid] = topic_id
                topic_rows.append(
                    {
                        "id": topic_id,
                        "workspace_id": wid,
                        "seed_id": topic_seed_id + i,
                        "title": f"{province}: where should the next green corridor go?",
                        "brief": "",
                        "brief_html": "",
                        "phase": "co-design",
                        "categories": ["territorial"],
                        "challenges": ["climate-resilience"],
                        "created_at": now - timedelta(days=60),
                    }
                )
    await _insert(session, Topic, iter(topic_rows), lambda n: None)

    # Ideas, with supports and comments decided first so the counts are written with the ideas.
    first_idea = await _next_id(session, Idea)
    idea_ids = list(range(first_idea, first_idea + scale.ideas))
    support_weights = [rng.paretovariate(1.3) for _ in idea_ids]
    wanted = _spread(rng, scale.supports, support_weights, cap=len(user_ids))
    supporters: list[list[int]] = []
    for wid, count in zip(idea_workspaces, wanted, strict=True):
        pool = member_lists[wid]
        if count <= len(pool):
            supporters.append(rng.sample(pool, count))
        else:
            inside = set(pool)
            outside = [u for u in rng.sample(user_ids, min(len(user_ids), count)) if u not in inside]
            supporters.append(pool + outside[: count - len(pool)])
    support_counts = [len(chosen) for chosen in supporters]
    comment_weights = [rng.paretovariate(1.5) for _ in idea_ids]
    comment_counts = _spread(rng, scale.comments, comment_weights, cap=scale.comments)

    def ideas() -> Iterator[dict]:
        for idea_id, wid, supports, comments in zip(
            idea_ids, idea_workspaces, support_counts, comment_counts, strict=True
        ):
            chinese = workspace_city[wid].country_code == "CN"
            title = (
                (rng.choice(NBS_ZH) + "·" + rng.choice(PLACES_ZH))
                if chinese
                else (f"{rng.choice(NBS_EN)} {rng.choice(PLACES_EN)}")
            )
            body = (
                ("在" + rng.choice(PLACES_ZH) + "种植本地树木，收集雨水，让居民一起维护。")
                if chinese
                else ("Plant native trees, catch the rain and look after it together with the neighbours.")
            )
            created = now - timedelta(minutes=rng.randint(0, 500 * 24 * 60))
            yield {
                "id": idea_id,
                "workspace_id": wid,
                "topic_id": topics_by_workspace.get(wid) if idea_id % 3 == 0 else None,
                "author_id": rng.choice(member_lists[wid]),
                "title": title,
                "body": body,
                "body_html": markdown.render(body),
                "place_name": "",
                "status": rng.choice(list(IdeaStatus)) if idea_id % 7 == 0 else IdeaStatus.PROPOSED,
                "support_count": supports,
                "comment_count": comments,
                "created_at": created,
                "updated_at": created,
                "last_activity_at": created + timedelta(days=rng.randint(0, 30)),
            }

    await _insert(session, Idea, ideas(), lambda n: progress("ideas", n))
    await _insert(
        session,
        IdeaTag,
        (
            {"idea_id": idea_id, "tag": tag}
            for idea_id in idea_ids
            for tag in rng.sample(tag_keys, rng.randint(0, 3))
        ),
        lambda n: None,
    )

    def supports() -> Iterator[dict]:
        for idea_id, chosen in zip(idea_ids, supporters, strict=True):
            for user_id in chosen:
                yield {"idea_id": idea_id, "user_id": user_id, "created_at": now}

    written_supports = await _insert(session, Support, supports(), lambda n: progress("supports", n))

    first_comment = await _next_id(session, Comment)

    def comments() -> Iterator[dict]:
        comment_id = first_comment
        for idea_id, wid, count in zip(idea_ids, idea_workspaces, comment_counts, strict=True):
            chinese = workspace_city[wid].country_code == "CN"
            threads: list[tuple[int, int]] = []
            for _ in range(count):
                reply_to = rng.choice(threads) if threads and rng.random() < 0.3 else None
                depth = 0 if reply_to is None else min(reply_to[1] + 1, 2)
                parent = None if reply_to is None else reply_to[0]
                thread = comment_id if reply_to is None else thread_of[reply_to[0]]
                body = rng.choice(COMMENTS_ZH if chinese else COMMENTS_EN)
                yield {
                    "id": comment_id,
                    "idea_id": idea_id,
                    "author_id": rng.choice(member_lists[wid]),
                    "parent_id": parent if depth > 0 else None,
                    "thread_id": thread,
                    "depth": depth,
                    "body": body,
                    "body_html": f"<p>{body}</p>\n",
                    "created_at": now - timedelta(minutes=rng.randint(0, 60 * 24 * 30)),
                }
                thread_of[comment_id] = thread
                if depth < 2:
                    threads.append((comment_id, depth))
                comment_id += 1
            thread_of.clear()

    thread_of: dict[int, int] = {}
    written_comments = await _insert(session, Comment, comments(), lambda n: progress("comments", n))
    if session.bind.dialect.name == "postgresql":
        # Rows were written with their ids; move each id sequence past them.
        for model in (User, Workspace, TopicSeed, Topic, Idea, Comment):
            table = model.__tablename__
            sequence = f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
            await session.exec(sa.text(sequence + f'(SELECT max(id) FROM "{table}"))'))  # noqa: S608 (our table names)
    await session.commit()
    # Fresh statistics, so the query planner knows the tables' new sizes.
    await session.exec(sa.text("ANALYZE"))
    await session.commit()
    return {
        "cities": len(cities),
        "users": scale.users,
        "workspaces": scale.workspaces,
        "ideas": scale.ideas,
        "supports": written_supports,
        "comments": written_comments,
    }
