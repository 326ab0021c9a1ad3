"""The NBS vocabularies (co-creation phases, NBS catalogue categories, challenge areas), in both languages."""

import json
from dataclasses import dataclass
from functools import cache

from app.core.config import PACKAGE_DATA_DIR
from app.core.i18n import get_language


@dataclass(frozen=True)
class Term:
    key: str
    en: str
    zh: str

    @property
    def label(self) -> str:
        return self.zh if get_language() == "zh" else self.en


@dataclass(frozen=True)
class Taxonomy:
    phases: tuple[Term, ...]
    categories: tuple[Term, ...]
    challenges: tuple[Term, ...]

    @property
    def tags(self) -> tuple[Term, ...]:
        """What an idea may be tagged with: catalogue categories and challenge areas."""
        return self.categories + self.challenges

    def tag(self, key: str) -> Term | None:
        return next((term for term in self.tags if term.key == key), None)

    def phase(self, key: str) -> Term | None:
        return next((term for term in self.phases if term.key == key), None)


@cache
def taxonomy() -> Taxonomy:
    data = json.loads((PACKAGE_DATA_DIR / "nbs_taxonomy.json").read_text(encoding="utf-8"))

    def terms(name: str) -> tuple[Term, ...]:
        return tuple(Term(key=item["key"], en=item["en"], zh=item["zh"]) for item in data[name])

    return Taxonomy(
        phases=terms("cocreation_phases"),
        categories=terms("nbs_catalogue_categories"),
        challenges=terms("challenge_areas"),
    )
