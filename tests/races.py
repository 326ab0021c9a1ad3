"""Races need real commits from many connections at once, which the rolled-back per-test transaction
cannot give. ``Arena`` opens its own engine on the test database, makes its rows under a unique name,
and deletes them all at the end (deleting the workspace cascades to everything in it)."""

import uuid

from sqlmodel import col, delete

from app.accounts.models import User
from app.core.db import Mode, create_engine, create_session_factory, unit_of_work
from app.workspaces.models import Membership, MemberStatus, Workspace
from tests.conftest import make_settings

# Stands in for an argon2 hash: these users never log in, and hashing thousands of passwords is slow.
UNUSABLE_PASSWORD_HASH = "!race"


class Arena:
    def __init__(self, database_url: str, *, connections: int = 20) -> None:
        self.engine = create_engine(make_settings(database_url), pool_size=connections, max_overflow=0)
        self.factory = create_session_factory(self.engine)
        self.tag = f"race-{uuid.uuid4().hex[:10]}"
        self.workspace_ids: list[int] = []

    def work(self, mode: Mode = Mode.WRITE):
        """A unit of work on the arena's engine, as a request has: committed at the end."""
        return unit_of_work(self.factory, mode)

    async def workspace(self, creator: User) -> Workspace:
        async with self.factory() as session:
            workspace = Workspace(slug=self.tag, title_en=f"Race {self.tag}", created_by_id=creator.id)
            session.add(workspace)
            await session.commit()
            self.workspace_ids.append(workspace.id)
            return workspace

    async def members(self, workspace: Workspace, count: int, *, role: str = "citizen") -> list[User]:
        async with self.factory() as session:
            users = [
                User(
                    email=f"{self.tag}-{n}@example.org",
                    display_name=f"Racer {n}",
                    password_hash=UNUSABLE_PASSWORD_HASH,
                    role=role,
                )
                for n in range(count)
            ]
            session.add_all(users)
            await session.flush()
            session.add_all(
                Membership(workspace_id=workspace.id, user_id=user.id, status=MemberStatus.ACTIVE)
                for user in users
            )
            await session.commit()
            return users

    async def user(self, *, role: str = "citizen") -> User:
        async with self.factory() as session:
            user = User(
                email=f"{self.tag}-{uuid.uuid4().hex[:6]}@example.org",
                display_name="Racer",
                password_hash=UNUSABLE_PASSWORD_HASH,
                role=role,
            )
            session.add(user)
            await session.commit()
            return user

    async def close(self) -> None:
        async with self.factory() as session:
            await session.exec(delete(Workspace).where(col(Workspace.id).in_(self.workspace_ids or [0])))
            await session.exec(delete(User).where(col(User.email).startswith(f"{self.tag}-")))
            await session.commit()
        await self.engine.dispose()
