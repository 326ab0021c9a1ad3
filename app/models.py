"""Imports every table, so the metadata Alembic and the tests see is the whole schema."""

from sqlmodel import SQLModel

from app import ratelimit
from app.accounts import models as accounts_models
from app.network import models as network_models

metadata = SQLModel.metadata

__all__ = ["accounts_models", "metadata", "network_models", "ratelimit"]
