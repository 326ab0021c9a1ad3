"""One kind of refusal for every domain: an act the platform will not do, with the reason in the
reader's language, the HTTP status it answers with and, for a form, the field it is about. A route
may catch it to show the message in place (on the form, beside the ballot); otherwise
``app.main``'s handler answers it as a page, an htmx fragment or JSON."""


class Refused(Exception):
    """An act the rules do not allow now. ``status``: 409 (the state of things stands in the way, the
    default), 403 (this person may not), 404 (it is gone), 422 (what was sent breaks a rule);
    ``field``: the form field the message belongs to, if any."""

    default_status = 409

    def __init__(self, message: str, status: int | None = None, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status or self.default_status
        self.field = field

    @property
    def forbidden(self) -> bool:
        return self.status == 403
