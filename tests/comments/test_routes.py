"""Commenting on ideas: threads three levels deep, editing for fifteen minutes, notifications, paging."""

import re
from datetime import timedelta

import pytest
from sqlmodel import col, func, select

from app.comments import permissions
from app.comments import service as comment_service
from app.comments.models import Comment
from app.core.db import utcnow
from app.ideas import service as idea_service
from app.ideas.models import Idea
from app.notifications.models import Notification
from app.workspaces import service as workspace_service
from app.workspaces.models import JoinPolicy, MemberStatus, Visibility
from tests.conftest import client_for, csrf_token, log_in, make_user, post_form
from tests.workspaces.conftest import make_workspace

HTMX = {"HX-Request": "true"}
COMMENT_ID = re.compile(r'<li id="comment-(\d+)"')


async def member(session, workspace, name="Test Citizen"):
    user = await make_user(session, display_name=name)
    await workspace_service.join(session=session, workspace=workspace, user=user)
    return user


async def make_idea(session, workspace, author, title="Rain gardens on Rua Central"):
    return await idea_service.create(
        session=session, workspace=workspace, author=author, data=idea_service.IdeaInput(title=title)
    )


async def add(session, workspace, idea, author, body="A comment.", parent=None) -> Comment:
    return await comment_service.add(
        session=session,
        workspace=workspace,
        idea=idea,
        author=author,
        body=body,
        parent_id=parent.id if parent else None,
    )


async def comments(session) -> list[Comment]:
    return list((await session.exec(select(Comment).order_by(Comment.id))).all())


async def htmx_post(client, url: str, data: dict):
    return await client.post(url, data={"csrf_token": await csrf_token(client), **data}, headers=HTMX)


def shown_ids(html: str) -> list[int]:
    return [int(found) for found in COMMENT_ID.findall(html)]


async def test_members_comment_reply_and_reply_to_replies_three_levels_deep(client, session, porto):
    idea = await make_idea(session, porto, await member(session, porto))
    await log_in(client, await member(session, porto, "Maria"))
    url = f"/w/{porto.slug}/ideas/{idea.id}/comments"

    response = await post_form(client, url, {"body": "Which street?"})
    assert response.status_code == 303
    [top] = await comments(session)
    assert response.headers["location"] == f"/w/{porto.slug}/ideas/{idea.id}#comment-{top.id}"
    assert (top.depth, top.thread_id, top.parent_id) == (0, top.id, None)

    assert (
        await post_form(client, url, {"body": "Rua Central.", "parent_id": str(top.id)})
    ).status_code == 303
    reply = (await comments(session))[-1]
    assert (reply.depth, reply.thread_id, reply.parent_id) == (1, top.id, top.id)
    assert (
        await post_form(client, url, {"body": "Near the school?", "parent_id": str(reply.id)})
    ).status_code == 303
    deepest = (await comments(session))[-1]
    assert (deepest.depth, deepest.thread_id, deepest.parent_id) == (2, top.id, reply.id)

    refused = await post_form(client, url, {"body": "A fourth level", "parent_id": str(deepest.id)})
    assert refused.status_code == 422
    assert "Replies go at most three levels deep." in refused.text and "A fourth level" in refused.text
    assert len(await comments(session)) == 3
    await session.refresh(idea)
    assert idea.comment_count == 3

    page = (await client.get(f"/w/{porto.slug}/ideas/{idea.id}")).text
    assert shown_ids(page) == [top.id, reply.id, deepest.id]
    # Each reply sits inside its parent's list of replies, and the deepest one offers no reply form.
    assert page.index(f'id="replies-{top.id}"') < page.index(f'id="comment-{reply.id}"')
    assert page.index(f'id="replies-{reply.id}"') < page.index(f'id="comment-{deepest.id}"')
    assert f'id="reply-{reply.id}"' in page and f'id="reply-{deepest.id}"' not in page
    assert "3 comments" in page


async def test_a_reply_must_answer_a_visible_comment_of_the_same_idea(client, session, porto):
    author = await member(session, porto)
    idea = await make_idea(session, porto, author)
    other_idea = await make_idea(session, porto, author, title="Another idea")
    elsewhere = await add(session, porto, other_idea, author)
    hidden = await add(session, porto, idea, author)
    hidden.hidden_at = utcnow()
    session.add(hidden)
    await session.commit()
    await log_in(client, author)
    url = f"/w/{porto.slug}/ideas/{idea.id}/comments"
    for parent_id in (str(elsewhere.id), str(hidden.id), "999999", "abc", "-1"):
        response = await post_form(client, url, {"body": "Kept text", "parent_id": parent_id})
        assert response.status_code == 422, parent_id
        assert (
            "The comment you replied to is no longer there." in response.text and "Kept text" in response.text
        )
    assert len(await comments(session)) == 2


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("", "This field is required."),
        ("   \n  ", "This field is required."),
        ("x" * 10_001, "Use at most 10000 characters (you wrote 10001)."),
    ],
)
async def test_bad_bodies_come_back_with_the_text_kept_and_nothing_saved(
    client, session, porto, body, message
):
    idea = await make_idea(session, porto, await member(session, porto))
    await log_in(client, await member(session, porto))
    url = f"/w/{porto.slug}/ideas/{idea.id}/comments"
    plain = await post_form(client, url, {"body": body})
    assert plain.status_code == 422
    assert message in plain.text and "<html" in plain.text
    assert f">{body}</textarea>" in plain.text
    fragment = await htmx_post(client, url, {"body": body})
    assert fragment.status_code == 422
    assert message in fragment.text and "<html" not in fragment.text and 'id="new-comment"' in fragment.text
    assert f">{body}</textarea>" in fragment.text
    assert await comments(session) == []


async def test_the_longest_comment_allowed_is_ten_thousand_characters(client, session, porto):
    idea = await make_idea(session, porto, await member(session, porto))
    await log_in(client, await member(session, porto))
    response = await post_form(client, f"/w/{porto.slug}/ideas/{idea.id}/comments", {"body": "y" * 10_000})
    assert response.status_code == 303
    assert len((await comments(session))[0].body) == 10_000


async def test_markdown_is_rendered_and_html_escaped_inside_hx_disable(client, session, porto):
    idea = await make_idea(session, porto, await member(session, porto))
    await log_in(client, await member(session, porto, "<b>Bold name</b>"))
    body = "Plant **native trees**.\n\n<script>alert('x')</script>\n\n[link](javascript:alert(1))"
    await post_form(client, f"/w/{porto.slug}/ideas/{idea.id}/comments", {"body": body})
    page = (await client.get(f"/w/{porto.slug}/ideas/{idea.id}")).text
    assert '<div class="prose" hx-disable><p>Plant <strong>native trees</strong>.</p>' in page
    assert "<script>alert('x')" not in page and "&lt;script&gt;alert" in page
    assert 'href="javascript' not in page
    assert "&lt;b&gt;Bold name&lt;/b&gt;" in page and "<b>Bold name</b>" not in page


async def test_only_active_members_comment_and_outsiders_learn_nothing(
    client, session, porto, facilitator, network
):
    idea = await make_idea(session, porto, await member(session, porto))
    await log_in(client, await make_user(session))
    url = f"/w/{porto.slug}/ideas/{idea.id}/comments"
    assert (await post_form(client, url, {"body": "Hello"})).status_code == 403
    page = (await client.get(f"/w/{porto.slug}/ideas/{idea.id}")).text
    assert "Members of this workspace can comment." in page and 'id="new-comment"' not in page

    secret = await make_workspace(
        session,
        facilitator,
        [network["Shenzhen"]],
        title="Secret pilot",
        visibility=Visibility.MEMBERS,
        join_policy=JoinPolicy.APPROVAL,
    )
    hidden_idea = await make_idea(session, secret, facilitator, title="Hidden idea")
    hidden = await add(session, secret, hidden_idea, facilitator, body="Secret words")
    for path in (
        f"/w/{secret.slug}/ideas/{hidden_idea.id}/comments?page=1",
        f"/w/{secret.slug}/comments/{hidden.id}",
        f"/w/{secret.slug}/comments/{hidden.id}/edit",
        # The same ids through a workspace the reader can see are not found either.
        f"/w/{porto.slug}/comments/{hidden.id}",
        f"/w/{porto.slug}/ideas/{hidden_idea.id}/comments?page=1",
    ):
        assert (await client.get(path)).status_code == 404, path
    for path in (
        f"/w/{secret.slug}/ideas/{hidden_idea.id}/comments",
        f"/w/{porto.slug}/ideas/{hidden_idea.id}/comments",
        f"/w/{secret.slug}/comments/{hidden.id}/edit",
        f"/w/{porto.slug}/comments/{hidden.id}/edit",
    ):
        assert (await post_form(client, path, {"body": "Let me in"})).status_code == 404, path
    assert [c.body for c in await comments(session)] == ["Secret words"]


async def test_signed_out_readers_see_the_discussion_and_a_way_to_log_in(client, session, porto):
    author = await member(session, porto)
    idea = await make_idea(session, porto, author)
    await add(session, porto, idea, author, body="Visible to all")
    page = (await client.get(f"/w/{porto.slug}/ideas/{idea.id}")).text
    assert "Visible to all" in page and "Log in to comment" in page
    assert 'id="new-comment"' not in page and 'name="parent_id"' not in page


async def test_an_archived_workspace_accepts_no_comments(client, session, porto, facilitator):
    author = await member(session, porto)
    idea = await make_idea(session, porto, author)
    first = await add(session, porto, idea, author, body="Before the archive")
    await workspace_service.set_archived(session=session, workspace=porto, archived=True, by=facilitator)
    await log_in(client, author)
    url = f"/w/{porto.slug}/ideas/{idea.id}/comments"
    assert (await post_form(client, url, {"body": "After"})).status_code == 403
    assert (await post_form(client, url, {"body": "After", "parent_id": str(first.id)})).status_code == 403
    assert (await client.get(f"/w/{porto.slug}/comments/{first.id}/edit")).status_code == 403
    page = await client.get(f"/w/{porto.slug}/ideas/{idea.id}")
    assert page.status_code == 200 and "Before the archive" in page.text
    assert "accepts nothing new" in page.text and 'id="new-comment"' not in page.text
    assert f'id="reply-{first.id}"' not in page.text and f"/comments/{first.id}/edit" not in page.text
    assert len(await comments(session)) == 1


async def test_the_author_edits_within_fifteen_minutes(client, other_client, session, porto):
    author = await member(session, porto)
    idea = await make_idea(session, porto, author)
    comment = await add(session, porto, idea, author, body="Frist draft")
    await log_in(client, author)
    edit_url = f"/w/{porto.slug}/comments/{comment.id}/edit"

    page = (await client.get(f"/w/{porto.slug}/ideas/{idea.id}")).text
    assert f'href="{edit_url}"' in page
    form = await client.get(edit_url)
    assert form.status_code == 200 and "<html" in form.text and ">Frist draft</textarea>" in form.text
    fragment = await client.get(edit_url, headers=HTMX)
    assert "<html" not in fragment.text and f'id="comment-{comment.id}-content"' in fragment.text

    blank = await post_form(client, edit_url, {"body": "  "})
    assert blank.status_code == 422 and "This field is required." in blank.text
    response = await post_form(client, edit_url, {"body": "First _draft_"})
    assert response.status_code == 303
    assert response.headers["location"] == f"/w/{porto.slug}/ideas/{idea.id}#comment-{comment.id}"
    await session.refresh(comment)
    assert comment.body == "First _draft_" and "<em>draft</em>" in comment.body_html
    assert comment.edited_at is not None
    assert "edited" in (await client.get(f"/w/{porto.slug}/ideas/{idea.id}")).text

    in_place = await htmx_post(client, edit_url, {"body": "Third version"})
    assert in_place.status_code == 200
    assert "<html" not in in_place.text and "<p>Third version</p>" in in_place.text

    await log_in(other_client, await member(session, porto))
    assert (await other_client.get(edit_url)).status_code == 403
    assert (await post_form(other_client, edit_url, {"body": "Hijack"})).status_code == 403
    other_page = (await other_client.get(f"/w/{porto.slug}/ideas/{idea.id}")).text
    assert f'href="{edit_url}"' not in other_page

    comment.created_at = utcnow() - timedelta(minutes=16)
    session.add(comment)
    await session.commit()
    assert (await client.get(edit_url)).status_code == 403
    assert (await post_form(client, edit_url, {"body": "Too late"})).status_code == 403
    assert f'href="{edit_url}"' not in (await client.get(f"/w/{porto.slug}/ideas/{idea.id}")).text
    await session.refresh(comment)
    assert comment.body == "Third version"


async def test_htmx_posts_return_a_fragment_with_the_comment_added_in_place(client, session, porto):
    idea = await make_idea(session, porto, await member(session, porto))
    await log_in(client, await member(session, porto, "Maria"))
    url = f"/w/{porto.slug}/ideas/{idea.id}/comments"

    response = await htmx_post(client, url, {"body": "First!"})
    assert response.status_code == 200 and "<html" not in response.text
    [top] = await comments(session)
    assert 'hx-swap-oob="beforeend:#comment-list"' in response.text
    assert f'<li id="comment-{top.id}"' in response.text and "<p>First!</p>" in response.text
    assert 'id="new-comment"' in response.text and "First!</textarea>" not in response.text
    assert '<h2 id="comments-heading" hx-swap-oob="true">1 comment</h2>' in response.text

    reply = await htmx_post(client, url, {"body": "A reply", "parent_id": str(top.id)})
    assert reply.status_code == 200 and "<html" not in reply.text
    assert f'hx-swap-oob="beforeend:#replies-{top.id}"' in reply.text
    assert f'<details id="reply-{top.id}"' in reply.text and "<p>A reply</p>" in reply.text
    assert "2 comments" in reply.text


async def test_the_idea_author_and_the_replied_to_are_told_once_and_never_of_their_own_comments(
    client, session, porto
):
    idea_author = await member(session, porto, "Ana")
    commenter = await member(session, porto, "Bo")
    third = await member(session, porto, "Chen")
    idea = await make_idea(session, porto, idea_author)

    async def told() -> list[tuple[int, str]]:
        rows = await session.exec(select(Notification.user_id, Notification.kind).order_by(Notification.id))
        return [(user_id, kind) for user_id, kind in rows.all() if kind in ("idea_comment", "comment_reply")]

    first = await add(session, porto, idea, commenter)
    assert await told() == [(idea_author.id, "idea_comment")]
    await add(session, porto, idea, idea_author, parent=first)
    assert (await told())[1:] == [(commenter.id, "comment_reply")]
    own = await add(session, porto, idea, idea_author)
    await add(session, porto, idea, commenter, parent=first)
    assert (await told())[2:] == [(idea_author.id, "idea_comment")]
    await add(session, porto, idea, third, parent=own)
    assert (await told())[3:] == [(idea_author.id, "comment_reply")]
    await add(session, porto, idea, third, parent=first)
    assert sorted((await told())[4:]) == sorted(
        [(commenter.id, "comment_reply"), (idea_author.id, "idea_comment")]
    )
    latest = (await comments(session))[-1]
    notification = (
        await session.exec(
            select(Notification)
            .where(Notification.user_id == commenter.id)
            .order_by(col(Notification.id).desc())
        )
    ).first()
    assert (notification.idea_id, notification.comment_id) == (idea.id, latest.id)

    await log_in(client, commenter)
    assert (
        "Chen replied to your comment on “Rain gardens on Rua Central”."
        in (await client.get("/notifications")).text
    )


async def test_long_discussions_are_paged_by_thread(client, session, porto):
    author = await member(session, porto)
    idea = await make_idea(session, porto, author)
    tops = [await add(session, porto, idea, author, body=f"Comment {n}") for n in range(45)]
    reply = await add(session, porto, idea, author, body="A late reply", parent=tops[41])
    await log_in(client, author)
    base = f"/w/{porto.slug}/ideas/{idea.id}"

    first = (await client.get(base)).text
    assert shown_ids(first) == [c.id for c in tops[:20]]
    assert f'href="{base}?comments=2#comments"' in first and "?comments=0" not in first
    third = (await client.get(f"{base}?comments=3")).text
    assert shown_ids(third) == [c.id for c in tops[40:42]] + [reply.id] + [c.id for c in tops[42:]]
    assert f'href="{base}?comments=2#comments"' in third and "?comments=4" not in third

    fragment = await client.get(f"{base}/comments?page=2", headers=HTMX)
    assert "<html" not in fragment.text and shown_ids(fragment.text) == [c.id for c in tops[20:40]]
    plain = await client.get(f"{base}/comments?page=2")
    assert plain.status_code == 303 and plain.headers["location"] == f"{base}?comments=2#comments"
    assert (await client.get(f"{base}?comments=-5")).status_code == 200
    assert shown_ids((await client.get(f"{base}?comments=99")).text) == []

    # Without JavaScript a new comment, and a link to any comment, lead to the page that shows it.
    posted = await post_form(client, f"{base}/comments", {"body": "Number 46"})
    newest = (await comments(session))[-1]
    assert posted.headers["location"] == f"{base}?comments=3#comment-{newest.id}"
    permalink = await client.get(f"/w/{porto.slug}/comments/{reply.id}")
    assert (
        permalink.status_code == 303
        and permalink.headers["location"] == f"{base}?comments=3#comment-{reply.id}"
    )
    assert (
        (await client.get(f"/w/{porto.slug}/comments/{tops[25].id}"))
        .headers["location"]
        .endswith(f"?comments=2#comment-{tops[25].id}")
    )


async def test_hidden_comments_show_a_note_without_their_text(app, client, session, porto):
    author = await member(session, porto)
    idea = await make_idea(session, porto, author)
    hidden = await add(session, porto, idea, author, body="Something rude")
    answer = await add(session, porto, idea, author, body="An answer stays", parent=hidden)
    hidden.hidden_at = utcnow()
    session.add(hidden)
    await session.commit()
    await log_in(client, await member(session, porto, name="Reader"))
    page = (await client.get(f"/w/{porto.slug}/ideas/{idea.id}")).text
    assert "This comment was hidden." in page and "Something rude" not in page
    assert (
        "An answer stays" in page
        and f'id="reply-{hidden.id}"' not in page
        and f'id="reply-{answer.id}"' in page
    )
    assert (await client.get(f"/w/{porto.slug}/comments/{hidden.id}/edit")).status_code == 403
    # Its author may still correct it, however long ago it was written, before asking for a review.
    async with client_for(app) as author_client:
        await log_in(author_client, author)
        assert (await author_client.get(f"/w/{porto.slug}/comments/{hidden.id}/edit")).status_code == 200


async def test_the_idea_page_runs_the_same_number_of_queries_however_long_the_discussion(
    client, session, porto, query_counter
):
    author = await member(session, porto)
    idea = await make_idea(session, porto, author)
    first = await add(session, porto, idea, author)
    await log_in(client, await member(session, porto))
    path = f"/w/{porto.slug}/ideas/{idea.id}"

    async def queries() -> int:
        query_counter.count = 0
        assert (await client.get(path)).status_code == 200
        return query_counter.count

    few = await queries()
    people = [await member(session, porto) for _ in range(4)]
    for n in range(19):
        top = await add(session, porto, idea, people[n % 4], body=f"Thread {n}")
        reply = await add(session, porto, idea, people[(n + 1) % 4], parent=top)
        await add(session, porto, idea, people[(n + 2) % 4], parent=reply)
    for person in people[:2]:
        await add(session, porto, idea, person, parent=first)
    assert (
        await session.exec(select(func.count()).select_from(Comment).where(Comment.idea_id == idea.id))
    ).one() == 60
    assert (await session.get(Idea, idea.id)).comment_count == 60
    many = await queries()
    assert many == few
    assert len(shown_ids((await client.get(path)).text)) == 60


@pytest.mark.parametrize(
    ("who", "minutes", "archived", "allowed"),
    [
        ("author", 1, False, True),
        ("author", 15, False, True),
        ("author", 16, False, False),
        ("author", 1, True, False),
        ("banned author", 1, False, False),
        ("other", 1, False, False),
        ("nobody", 1, False, False),
    ],
)
async def test_who_may_edit_a_comment(session, porto, who, minutes, archived, allowed):
    author = await member(session, porto)
    other = await member(session, porto)
    comment = await add(session, porto, await make_idea(session, porto, author), author)
    if archived:
        porto.archived_at = utcnow()
    user = {"author": author, "banned author": author, "other": other, "nobody": None}[who]
    membership = (
        None
        if user is None
        else await workspace_service.membership_of(session=session, workspace_id=porto.id, user=user)
    )
    if who == "banned author":
        membership.status = MemberStatus.BANNED
    now = comment.created_at + timedelta(minutes=minutes)
    assert permissions.can_edit_comment(user, comment, porto, membership, now) is allowed
