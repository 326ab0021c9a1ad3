"""The topics' part of a person's data (``app.core.personal_data``): only who made a topic or seeded
it, which the database empties with the account."""

from app.core.personal_data import PersonalData, register

PART = register(
    PersonalData(
        name="topics",
        references={
            "topic.created_by_id": "emptied",
            "topic_seed.created_by_id": "emptied",
        },
    )
)
