"""Networks of cities, the cities themselves, their role in each network, and organisations."""

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.core.db import UTCDateTime, utcnow


class NetworkRole(StrEnum):
    FRONT_RUNNER = "front-runner"
    FOLLOWER = "follower"
    OBSERVER = "observer"
    MEMBER = "member"
    FACILITATOR = "facilitator"


class OrganisationKind(StrEnum):
    CITY_AUTHORITY = "city-authority"
    ENTERPRISE = "enterprise"
    UNIVERSITY = "university"
    RESEARCH_CENTRE = "research-centre"
    NGO = "ngo"
    FACILITATOR = "facilitator"


class Network(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=40, unique=True)
    name_en: str = Field(max_length=200)
    name_zh: str = Field(max_length=200)
    description_en: str = Field(default="", sa_type=sa.Text)
    description_zh: str = Field(default="", sa_type=sa.Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class City(SQLModel, table=True):
    # Names repeat across provinces (Suzhou in Jiangsu and in Anhui), so the region is part of a
    # city's identity.
    __table_args__ = (sa.UniqueConstraint("country_code", "region", "name_en"),)

    id: int | None = Field(default=None, primary_key=True)
    name_en: str = Field(max_length=120)
    name_local: str = Field(max_length=120)
    country_code: str = Field(max_length=2, index=True)
    region: str = Field(default="", max_length=120)
    latitude: float
    longitude: float
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class NetworkCity(SQLModel, table=True):
    """A city's place in a network, with its role there."""

    __tablename__ = "network_city"
    __table_args__ = (sa.UniqueConstraint("network_id", "city_id"),)

    id: int | None = Field(default=None, primary_key=True)
    network_id: int = Field(foreign_key="network.id", ondelete="CASCADE")
    city_id: int = Field(foreign_key="city.id", ondelete="CASCADE", index=True)
    role: str = Field(max_length=20)


class Organisation(SQLModel, table=True):
    __table_args__ = (sa.UniqueConstraint("name"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    name_zh: str = Field(default="", max_length=200)
    kind: str = Field(max_length=20)
    city_id: int | None = Field(default=None, foreign_key="city.id", ondelete="SET NULL", index=True)
    website: str = Field(default="", max_length=300)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
