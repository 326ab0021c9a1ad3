"""Register, log in and out, the profile, and the language switch."""

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from app.accounts import service as account_service
from app.accounts.deps import CurrentAuthSession, CurrentUser, OptionalUser
from app.accounts.devices import describe_device
from app.accounts.middleware import expired_cookie
from app.core import i18n, ratelimit
from app.core.config import Settings
from app.core.deps import ClientAddress, FormStr, SessionDep, SettingsDep, rate_limited
from app.core.forms import FormError
from app.core.i18n import _
from app.core.templating import flash, render
from app.network import service as network_service

router = APIRouter()


def safe_next(target: str | None, default: str = "/") -> str:
    """A local path to go back to; anything that could leave the site becomes ``default``."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    # Browsers drop tabs and line breaks from URLs, so "/\t/evil.example" would become "//evil.example".
    if any(ord(character) < 0x20 or ord(character) == 0x7F for character in target):
        return default
    return target


def _set_session_cookie(response: Response, token: str, settings: Settings) -> None:
    response.set_cookie(
        settings.session_cookie_name,
        token,
        max_age=settings.session_max_age_days * 86400,
        httponly=True,
        samesite="lax",
        secure=settings.is_production,
        path="/",
    )


async def _logged_in(
    request: Request, session, settings: Settings, user, address: str, target: str, *, new_account: bool
) -> RedirectResponse:
    """Starts a session for ``user`` and redirects to ``target`` with the session cookie set and a
    greeting in the user's own language."""
    token, _auth_session = await account_service.start_session(
        session=session,
        user=user,
        settings=settings,
        address=address,
        user_agent=request.headers.get("user-agent", ""),
    )
    response = RedirectResponse(target, status_code=303)
    _set_session_cookie(response, token, settings)
    i18n.set_context(user.locale, user.time_zone)
    if new_account:
        message = _("Welcome to cocreate, %(name)s!", name=user.display_name)
    else:
        message = _("You are logged in.")
    flash(request, response, message, "success")
    return response


@router.get("/register")
async def register_form(request: Request, user: OptionalUser):
    if user:
        return RedirectResponse("/", status_code=303)
    return render(request, "accounts/register.html", {"form": {}, "errors": {}})


@router.post("/register", dependencies=[rate_limited("register")])
async def register(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    address: ClientAddress,
    email: FormStr = "",
    display_name: FormStr = "",
    password: FormStr = "",
    time_zone: FormStr = "",
):
    language = i18n.get_language()
    if not i18n.is_time_zone(time_zone):
        time_zone = "Asia/Shanghai" if language == "zh" else "UTC"
    try:
        user = await account_service.create(
            session=session,
            email=email,
            display_name=display_name,
            password=password,
            locale=language,
            time_zone=time_zone,
        )
    except account_service.EmailTaken:
        return await _register_as_login(request, session, settings, address, email, display_name, password)
    except FormError as error:
        form = {"email": email, "display_name": display_name}
        return render(
            request,
            "accounts/register.html",
            {"form": form, "errors": error.errors},
            status_code=422,
        )
    return await _logged_in(request, session, settings, user, address, "/", new_account=True)


async def _register_as_login(request, session, settings, address, email, display_name, password):
    """A registration with an address that has an account is answered as a login with the same
    details: the owner, who forgot they had one, is signed in; anyone else gets the login's refusal,
    counted against the same limits, so this form is no way round them and never says "this address
    has an account". (Once the platform sends mail, the owner will be told of the attempt by mail.)"""
    form = {"email": email, "display_name": display_name}

    def refused(message: str, status_code: int, headers: dict | None = None):
        return render(
            request,
            "accounts/register.html",
            {"form": form, "errors": {"__all__": message}},
            status_code=status_code,
            headers=headers,
        )

    try:
        user = await account_service.authenticate(
            session=session, email=email, password=password, address=address
        )
    except account_service.AccountDisabled:
        return refused(
            _("This account is disabled. If you think this is a mistake, contact the platform's admins."), 403
        )
    except ratelimit.RateLimited as limited:
        message = i18n.ngettext(
            "Too many failed attempts. Try again in %(num)s minute.",
            "Too many failed attempts. Try again in %(num)s minutes.",
            limited.minutes,
        )
        return refused(message, 429, {"Retry-After": str(limited.retry_after)})
    if user is None:
        return refused(_("That email and password do not match an account."), 422)
    return await _logged_in(request, session, settings, user, address, "/", new_account=False)


@router.get("/login")
async def login_form(request: Request, user: OptionalUser, next: str = "/"):
    if user:
        return RedirectResponse(safe_next(next), status_code=303)
    return render(request, "accounts/login.html", {"form": {"next": safe_next(next)}, "errors": {}})


@router.post("/login")
async def login(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    address: ClientAddress,
    current_session: CurrentAuthSession,
    email: FormStr = "",
    password: FormStr = "",
    next: FormStr = "/",
):
    form = {"email": email[:300], "next": safe_next(next)}
    try:
        user = await account_service.authenticate(
            session=session, email=email, password=password, address=address
        )
    except account_service.AccountDisabled:
        message = _(
            "This account is disabled. If you think this is a mistake, contact the platform's admins."
        )
        return render(
            request,
            "accounts/login.html",
            {"form": form, "errors": {"__all__": message}},
            status_code=403,
        )
    except ratelimit.RateLimited as limited:
        minutes = limited.minutes
        message = i18n.ngettext(
            "Too many failed attempts. Try again in %(num)s minute.",
            "Too many failed attempts. Try again in %(num)s minutes.",
            minutes,
        )
        return render(
            request,
            "accounts/login.html",
            {"form": form, "errors": {"__all__": message}},
            status_code=429,
            headers={"Retry-After": str(limited.retry_after)},
        )
    if user is None:
        message = _("That email and password do not match an account.")
        return render(
            request,
            "accounts/login.html",
            {"form": form, "errors": {"__all__": message}},
            status_code=422,
        )
    if current_session is not None:
        await account_service.end_session(session=session, auth_session_id=current_session.id)
    return await _logged_in(request, session, settings, user, address, form["next"], new_account=False)


@router.post("/logout")
async def logout(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    current_session: CurrentAuthSession,
):
    if current_session is not None:
        await account_service.end_session(session=session, auth_session_id=current_session.id)
    response = RedirectResponse("/", status_code=303)
    response.headers.append("set-cookie", expired_cookie(settings.session_cookie_name))
    flash(request, response, _("You are logged out."), "info")
    return response


async def _profile_page(
    request,
    session,
    settings,
    user,
    auth_session,
    *,
    form=None,
    errors=None,
    password_errors=None,
    status_code=200,
    headers=None,
):
    organisations = await network_service.list_organisations(session=session)
    sessions = await account_service.live_sessions(session=session, user_id=user.id, settings=settings)
    form = form or {
        "display_name": user.display_name,
        "locale": user.locale,
        "time_zone": user.time_zone,
        "organisation_id": user.organisation_id,
    }
    return render(
        request,
        "accounts/profile.html",
        {
            "form": form,
            "errors": errors or {},
            "password_errors": password_errors or {},
            "organisation_options": [
                (o.id, o.name_zh if i18n.get_language() == "zh" and o.name_zh else o.name)
                for o in organisations
            ],
            "language_options": [(key, meta[2]) for key, meta in i18n.LANGUAGES.items()],
            "time_zones": i18n.time_zones(),
            "sessions": sessions,
            "this_session_id": auth_session.id if auth_session else None,
            "device_name": describe_device,
        },
        status_code=status_code,
        headers=headers,
    )


@router.get("/profile")
async def profile(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: CurrentUser,
    auth_session: CurrentAuthSession,
):
    return await _profile_page(request, session, settings, user, auth_session)


@router.post("/profile")
async def update_profile(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: CurrentUser,
    auth_session: CurrentAuthSession,
    display_name: FormStr = "",
    locale: FormStr = "",
    time_zone: FormStr = "",
    organisation_id: FormStr = "",
):
    organisations = await network_service.list_organisations(session=session)
    user = await account_service.get(session=session, user_id=user.id)
    try:
        await account_service.update_profile(
            session=session,
            user=user,
            display_name=display_name,
            locale=locale,
            time_zone=time_zone,
            organisation_id=organisation_id,
            valid_organisation_ids={o.id for o in organisations},
        )
    except FormError as error:
        form = {
            "display_name": display_name,
            "locale": locale,
            "time_zone": time_zone,
            "organisation_id": organisation_id,
        }
        await session.refresh(user)
        return await _profile_page(
            request,
            session,
            settings,
            user,
            auth_session,
            form=form,
            errors=error.errors,
            status_code=422,
        )
    i18n.set_context(user.locale, user.time_zone)
    response = RedirectResponse("/profile", status_code=303)
    flash(request, response, _("Your profile is saved."), "success")
    return response


@router.post("/profile/password")
async def change_password(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: CurrentUser,
    auth_session: CurrentAuthSession,
    current_password: FormStr = "",
    new_password: FormStr = "",
    confirm_password: FormStr = "",
):
    try:
        ended = await account_service.change_password(
            session=session,
            user=user,
            current_password=current_password,
            new_password=new_password,
            confirm_password=confirm_password,
            keep_session_id=auth_session.id if auth_session else None,
        )
    except FormError as error:
        return await _profile_page(
            request,
            session,
            settings,
            user,
            auth_session,
            password_errors=error.errors,
            status_code=422,
        )
    except ratelimit.RateLimited as limited:
        minutes = limited.minutes
        message = i18n.ngettext(
            "Too many wrong passwords. Try again in %(num)s minute.",
            "Too many wrong passwords. Try again in %(num)s minutes.",
            minutes,
        )
        return await _profile_page(
            request,
            session,
            settings,
            user,
            auth_session,
            password_errors={"current_password": message},
            status_code=429,
            headers={"Retry-After": str(limited.retry_after)},
        )
    response = RedirectResponse("/profile", status_code=303)
    message = _("Your password is changed.")
    if ended:
        message += " " + i18n.ngettext(
            "%(num)s other session was logged out.",
            "%(num)s other sessions were logged out.",
            ended,
        )
    flash(request, response, message, "success")
    return response


@router.post("/profile/sessions/end-others")
async def end_other_sessions(
    request: Request, session: SessionDep, user: CurrentUser, auth_session: CurrentAuthSession
):
    ended = await account_service.end_other_sessions(
        session=session, user_id=user.id, keep_id=auth_session.id if auth_session else None
    )
    response = RedirectResponse("/profile", status_code=303)
    flash(
        request,
        response,
        i18n.ngettext(
            "%(num)s other session was logged out.",
            "%(num)s other sessions were logged out.",
            ended,
        ),
        "success",
    )
    return response


@router.post("/language")
async def switch_language(
    request: Request,
    session: SessionDep,
    user: OptionalUser,
    language: FormStr = "",
    next: FormStr = "/",
):
    if language not in i18n.LANGUAGES:
        language = i18n.DEFAULT_LANGUAGE
    if user is not None:
        user = await account_service.get(session=session, user_id=user.id)
        await account_service.set_language(session=session, user=user, language=language)
    response = RedirectResponse(safe_next(next), status_code=303)
    response.set_cookie(
        i18n.LANGUAGE_COOKIE,
        language,
        max_age=365 * 86400,
        samesite="lax",
        httponly=True,
        secure=request.app.state.settings.is_production,
        path="/",
    )
    return response
