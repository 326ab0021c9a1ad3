"""The file storage for a request, from the app's settings."""

from typing import Annotated

from fastapi import Depends

from app.attachments.storage import Storage, storage_for
from app.core.deps import SettingsDep


async def get_storage(settings: SettingsDep) -> Storage:
    return storage_for(settings)


StorageDep = Annotated[Storage, Depends(get_storage)]
