"""The admins' pages for accounts: the searchable list, one account's details, and the forms that
change its global role, disable it and enable it again."""

from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse

from app.accounts.deps import AdminUser
from app.accounts.models import User
from app.admin import permissions
from app.admin import service as admin_service
from app.audit import service as audit_service
from app.core.deps import FormStr, RowId, SessionDep, SettingsDep
from app.core.errors import Refused
from app.core.forms import FormError
from app.core.i18n import _, ngettext
from app.core.templating import flash, render

router = APIRouter()


@router.get("/admin/users")
async def user_list(request: Request, session: SessionDep, user: AdminUser):
    filters = admin_service.UserFilter.from_query(request.query_params)
    users, next_before = await admin_service.search(session=session, filters=filters)
    total = await admin_service.count(session=session, filters=filters)
    return render(
        request,
        "admin/users.html",
        {
            "users": users,
            "next_before": next_before,
            "total": total,
            "filters": filters,
            "query": filters.query(),
            "urlencode": urlencode,
            "role_labels": admin_service.ROLE_LABELS,
            "state_labels": admin_service.STATE_LABELS,
        },
    )


async def _target(session, user_id: int) -> User:
    target = await admin_service.get(session=session, user_id=user_id)
    if target is None:
        raise HTTPException(status_code=404)
    return target


async def _user_page(
    request: Request,
    session,
    settings,
    admin: User,
    target: User,
    *,
    form=None,
    errors=None,
    refused: str = "",
    status_code=200,
):
    """The account's page; ``form`` and ``errors`` are keyed by the form sent (role, disable, enable),
    ``refused`` says why the rules refused an act."""
    details = await admin_service.details(session=session, user=target, settings=settings)
    return render(
        request,
        "admin/user.html",
        {
            "details": details,
            "target": target,
            "form": form or {},
            "errors": errors or {},
            "role_labels": admin_service.ROLE_LABELS,
            "actions": audit_service.ACTIONS,
            "may_change_role": permissions.can_change_role(admin, target),
            "may_disable": permissions.can_disable(admin, target),
            "may_enable": permissions.can_enable(admin, target),
            "reason_max": admin_service.REASON_MAX,
            "refused": refused,
        },
        status_code=status_code,
    )


@router.get("/admin/users/{user_id}")
async def user_page(
    request: Request, session: SessionDep, settings: SettingsDep, user: AdminUser, user_id: RowId
):
    target = await _target(session, user_id)
    return await _user_page(request, session, settings, user, target)


async def _act(request: Request, session, settings, admin: User, target: User, act, *, name: str, form: dict):
    """Runs one of the account forms' acts and goes back to the account's page with a confirmation. On
    bad input the page comes back with the form's messages (422); when the rules refuse, with why (403
    or 409; 404 when the account is gone). Either way nothing is changed."""
    try:
        message = await act()
    except FormError as error:
        return await _user_page(
            request,
            session,
            settings,
            admin,
            target,
            form={name: form},
            errors={name: error.errors},
            status_code=422,
        )
    except Refused as refused:
        if refused.status == 404:
            raise HTTPException(status_code=404) from None
        return await _user_page(
            request,
            session,
            settings,
            admin,
            target,
            form={name: form},
            refused=refused.message,
            status_code=refused.status,
        )
    response = RedirectResponse(f"/admin/users/{target.id}", status_code=303)
    flash(request, response, message, "success")
    return response


@router.post("/admin/users/{user_id}/role")
async def change_role(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: AdminUser,
    user_id: RowId,
    role: FormStr = "",
    reason: FormStr = "",
):
    target = await _target(session, user_id)

    async def act():
        await admin_service.change_role(session=session, target=target, admin=user, role=role, reason=reason)
        return _(
            "%(name)s is now: %(role)s.", name=target.display_name, role=_(admin_service.ROLE_LABELS[role])
        )

    return await _act(
        request, session, settings, user, target, act, name="role", form={"role": role, "reason": reason}
    )


@router.post("/admin/users/{user_id}/disable")
async def disable(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: AdminUser,
    user_id: RowId,
    reason: FormStr = "",
):
    target = await _target(session, user_id)

    async def act():
        ended = await admin_service.disable(session=session, target=target, admin=user, reason=reason)
        return ngettext(
            "The account is disabled and %(num)s login session was ended.",
            "The account is disabled and %(num)s login sessions were ended.",
            ended,
        )

    return await _act(request, session, settings, user, target, act, name="disable", form={"reason": reason})


@router.post("/admin/users/{user_id}/enable")
async def enable(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: AdminUser,
    user_id: RowId,
    reason: FormStr = "",
):
    target = await _target(session, user_id)

    async def act():
        await admin_service.enable(session=session, target=target, admin=user, reason=reason)
        return _("The account is enabled again: its owner can log in.")

    return await _act(request, session, settings, user, target, act, name="enable", form={"reason": reason})
