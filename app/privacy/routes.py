"""The privacy page, downloading one's own data, and deleting one's account.

There is no route taking a user id: each acts on the signed-in user only. The download is a POST
with the CSRF token: it reads every row and file of the account, so no link on another site, no
prefetch and no cache may set it off, and it answers a form the person sent on purpose."""

from datetime import timedelta
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, StreamingResponse

from app.accounts import service as account_service
from app.accounts.deps import CurrentUser
from app.accounts.middleware import expired_cookie
from app.attachments import service as attachment_service
from app.attachments.deps import StorageDep
from app.core import i18n, live, ratelimit
from app.core.config import HTMX_CDN_URL
from app.core.db import after_commit, utcnow
from app.core.deps import FormStr, SessionDep, SettingsDep
from app.core.errors import Refused
from app.core.forms import FormError
from app.core.i18n import _
from app.core.templating import flash, render
from app.privacy import service as privacy_service

router = APIRouter()


@router.get("/privacy")
async def privacy_page(request: Request, settings: SettingsDep):
    idle = timedelta(minutes=settings.session_idle_minutes)
    return render(
        request,
        "privacy/privacy.html",
        {
            "idle_days": max(1, round(idle / timedelta(days=1))),
            "max_age_days": settings.session_max_age_days,
            "ended_session_days": account_service.ENDED_SESSION_RETENTION.days,
            "audit_years": privacy_service.AUDIT_RETENTION_YEARS,
            "counter_days": ratelimit.RETENTION.days,
            "live_days": live.RETENTION.days,
            # The other servers a page makes the browser ask.
            "cdn_host": urlsplit(HTMX_CDN_URL).netloc if settings.assets == "cdn" else None,
            "tile_host": urlsplit(settings.map_tile_url.replace("{s}.", "")).netloc,
        },
    )


@router.post("/profile/data")
async def download_data(
    request: Request, session: SessionDep, settings: SettingsDep, user: CurrentUser, storage: StorageDep
):
    await privacy_service.count_export(session=session, user=user)
    export = await privacy_service.collect(
        session=session, storage=storage, secret_key=settings.voting_key, user=user
    )
    filename = f"cocreate-data-{utcnow():%Y-%m-%d}.zip"
    return StreamingResponse(
        privacy_service.zip_stream(export),
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )


def _delete_page(
    request: Request, *, errors=None, remove: bool = False, status_code: int = 200, headers=None
):
    return render(
        request,
        "privacy/delete.html",
        {"errors": errors or {}, "remove": remove},
        status_code=status_code,
        headers=headers,
    )


@router.get("/profile/delete")
async def delete_form(request: Request, user: CurrentUser):
    return _delete_page(request)


@router.post("/profile/delete")
async def delete_account(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: CurrentUser,
    storage: StorageDep,
    password: FormStr = "",
    remove_contributions: FormStr = "",
):
    remove = remove_contributions == "yes"
    try:
        done = await privacy_service.delete_account(
            session=session,
            user=user,
            password=password,
            remove_contributions=remove,
            secret_key=settings.voting_key,
        )
    except FormError as error:
        return _delete_page(request, errors=error.errors, remove=remove, status_code=422)
    except ratelimit.RateLimited as limited:
        minutes = limited.minutes
        message = i18n.ngettext(
            "Too many wrong passwords. Try again in %(num)s minute.",
            "Too many wrong passwords. Try again in %(num)s minutes.",
            minutes,
        )
        return _delete_page(
            request,
            errors={"__all__": message},
            remove=remove,
            status_code=429,
            headers={"Retry-After": str(limited.retry_after)},
        )
    except Refused as refused:
        return _delete_page(request, errors={"__all__": refused.message}, remove=remove, status_code=409)
    after_commit(session, lambda: attachment_service.remove_files(storage, done.files))
    response = RedirectResponse("/", status_code=303)
    response.headers.append("set-cookie", expired_cookie(settings.session_cookie_name))
    if remove:
        message = _("Your account is deleted, with your ideas and comments. Thank you for taking part.")
    else:
        message = _(
            "Your account is deleted. What you posted stays, under “a former participant”. Thank you for "
            "taking part."
        )
    flash(request, response, message, "success")
    return response
