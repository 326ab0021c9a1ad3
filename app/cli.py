"""The ``cocreate`` command: serve, migrate, seed-demo, create-user, import-cities."""

import asyncio
import getpass
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from app.core.config import ConfigurationError, Settings

cli = typer.Typer(
    help="cocreate: co-create nature-based solutions across a network of cities.",
    no_args_is_help=True,
    add_completion=False,
)


def load_settings() -> Settings:
    try:
        return Settings()
    except ConfigurationError as error:
        typer.secho(f"Configuration error: {error}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from None


async def _with_session(settings: Settings, work):
    import app.handlers
    import app.models  # noqa: F401 (every table, so foreign keys between domains resolve)
    from app.core.db import create_engine, create_session_factory, unit_of_work

    engine = create_engine(settings)
    try:
        async with unit_of_work(create_session_factory(engine)) as session:
            return await work(session)
    finally:
        await engine.dispose()


SHUTDOWN_GRACE_SECONDS = 5


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
    reload: Annotated[bool, typer.Option(help="Restart when code changes (development).")] = False,
) -> None:
    """Serve the web app with uvicorn."""
    import uvicorn

    settings = load_settings()
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=host,
        port=port,
        workers=None if reload else workers,
        reload=reload,
        proxy_headers=bool(settings.trusted_proxies),
        forwarded_allow_ips=settings.trusted_proxies or None,
        server_header=False,
        # A line per request costs a busy room's votes a few per cent of the server's time.
        access_log=settings.logs_each_request,
        # Open live-room streams would otherwise hold a restart until every browser leaves.
        timeout_graceful_shutdown=SHUTDOWN_GRACE_SECONDS,
    )


class Direction(StrEnum):
    upgrade = "upgrade"
    downgrade = "downgrade"


@cli.command()
def migrate(
    direction: Annotated[Direction, typer.Argument(help="upgrade or downgrade")] = Direction.upgrade,
    revision: Annotated[str | None, typer.Option(help="Target (default: head, or -1 down).")] = None,
) -> None:
    """Apply (or roll back) database migrations."""
    from app.core import migrations

    settings = load_settings()
    if direction == Direction.upgrade:
        migrations.upgrade(settings.database_url, revision or "head")
    else:
        migrations.downgrade(settings.database_url, revision or "-1")
    typer.echo(
        f"Migrations: {direction.value} to {revision or ('head' if direction == 'upgrade' else '-1')} done."
    )


@cli.command("seed-demo")
def seed_demo(
    if_empty: Annotated[bool, typer.Option("--if-empty", help="Only when the database is empty.")] = False,
) -> None:
    """Load the demo network, organisations and (in development) demo accounts."""
    from app.demo import seed

    settings = load_settings()

    async def work(session):
        if if_empty and not await seed.is_empty(session=session):
            return None
        return await seed.seed_demo(session=session, with_users=not settings.is_production)

    report = asyncio.run(_with_session(settings, work))
    if report is None:
        typer.echo("Demo data: the database already has data, nothing loaded.")
        return
    c = report.cities
    typer.echo(
        f"Demo data: {c.cities_created} cities added, {c.cities_updated} updated, "
        f"{report.organisations} organisations."
    )
    if report.workspaces_created:
        typer.echo(f"Demo workspaces: {', '.join(report.workspaces_created)}")
    if report.users_created:
        typer.echo(f"Demo accounts (password: {seed.DEMO_PASSWORD}):")
        for email in report.users_created:
            typer.echo(f"  {email}")


@cli.command()
def prune() -> None:
    """Delete what is kept past its time (ended logins, counters, old audit entries); run it daily."""
    from app.privacy import service as privacy_service

    settings = load_settings()

    async def work(session):
        return await privacy_service.prune(session=session, settings=settings)

    done = asyncio.run(_with_session(settings, work))
    typer.echo(
        f"Pruned {done['login_sessions']} ended login sessions, {done['counters']} rate-limit counts "
        f"and {done['audit_entries']} audit entries older than {privacy_service.AUDIT_RETENTION_YEARS} years."
    )


class ScaleChoice(StrEnum):
    network = "network"
    small = "small"


@cli.command()
def seed(
    scale: Annotated[ScaleChoice, typer.Option(help="network: 3,000 workspaces, 100,000 ideas, ...")] = (
        ScaleChoice.network
    ),
    random_seed: Annotated[int, typer.Option("--seed", help="Same seed, same data.")] = 2026,
) -> None:
    """Load a large, realistic data set (for benchmarks); refuses to load it twice."""
    import time

    from app.demo import scale as scale_data

    settings = load_settings()
    size = scale_data.SCALES[scale.value]
    labels = {
        "users": size.users,
        "workspaces": size.workspaces,
        "memberships": None,
        "ideas": size.ideas,
        "supports": size.supports,
        "comments": size.comments,
    }

    async def work(session):
        if await scale_data.already_loaded(session=session):
            return None
        bars: dict[str, object] = {}

        def progress(step: str, count: int) -> None:
            if step not in labels:
                typer.echo(f"{step}: {count}", err=True)
                return
            if step not in bars:
                for other in bars.values():
                    other.render_finish()
                bars[step] = typer.progressbar(
                    length=labels[step] or 0, label=f"{step:<12}", file=sys.stderr, show_pos=True
                )
                bars[step].__enter__()
            bars[step].update(count)

        result = await scale_data.load(session=session, scale=size, seed=random_seed, progress=progress)
        for bar in bars.values():
            bar.render_finish()
        return result

    started = time.monotonic()
    result = asyncio.run(_with_session(settings, work))
    if result is None:
        typer.echo("The network-scale data is already loaded.")
        return
    typer.echo(
        f"Loaded {result['cities']} cities, {result['users']} users, {result['workspaces']} workspaces, "
        f"{result['ideas']} ideas, {result['supports']} supports, {result['comments']} comments "
        f"in {time.monotonic() - started:.0f} s. Users log in as user<N>@{scale_data.SCALE_EMAIL_DOMAIN} "
        f"with the password {scale_data.SCALE_PASSWORD}."
    )


class RoleChoice(StrEnum):
    citizen = "citizen"
    facilitator = "facilitator"
    admin = "admin"


@cli.command("create-user")
def create_user(
    email: Annotated[str, typer.Argument(help="The email address to log in with.")],
    display_name: Annotated[str, typer.Option("--name", help="Display name.")] = "",
    role: Annotated[RoleChoice, typer.Option(help="Global role.")] = RoleChoice.citizen,
    password: Annotated[
        str | None,
        typer.Option(help="Password; asked for when not given (prefer that, it stays out of shell history)."),
    ] = None,
    language: Annotated[str, typer.Option(help="en or zh")] = "en",
) -> None:
    """Create an account, for example the first admin."""
    from app.accounts import service as account_service
    from app.accounts.models import Role
    from app.core.forms import FormError

    settings = load_settings()
    if password is None:
        password = getpass.getpass("Password: ")
        if password != getpass.getpass("Password again: "):
            typer.secho("The passwords are not the same.", fg=typer.colors.RED, err=True)
            raise typer.Exit(1)

    async def work(session):
        return await account_service.create(
            session=session,
            email=email,
            display_name=display_name or email.split("@")[0],
            password=password,
            locale=language,
            role=Role(role.value),
        )

    try:
        user = asyncio.run(_with_session(settings, work))
    except FormError as error:
        for field, message in error.errors.items():
            typer.secho(f"{field}: {message}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from None
    typer.echo(f"Created {user.role} {user.email} (id {user.id}).")


@cli.command("import-cities")
def import_cities(
    file: Annotated[
        Path,
        typer.Argument(
            exists=True,
            dir_okay=False,
            readable=True,
            help="CSV: network,name_en,name_local,country_code,region,role,latitude,longitude",
        ),
    ],
) -> None:
    """Import cities and their network roles; importing again updates, never duplicates."""
    from app.network import service as network_service

    settings = load_settings()
    try:
        parsed = network_service.parse_cities_csv(file.read_bytes())
    except network_service.CsvFileError as error:
        typer.secho(f"{file}: {error}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from None

    async def work(session):
        with typer.progressbar(length=len(parsed.rows), label="Importing cities", file=sys.stderr) as bar:
            last = 0

            def progress(done: int) -> None:
                nonlocal last
                bar.update(done - last)
                last = done

            return await network_service.import_cities(session=session, rows=parsed.rows, progress=progress)

    report = asyncio.run(_with_session(settings, work)) if parsed.rows else None
    if report:
        typer.echo(
            f"Cities: {report.cities_created} added, {report.cities_updated} updated, "
            f"{report.cities_unchanged} unchanged. Network roles: {report.memberships_created} "
            f"added, {report.memberships_updated} changed."
        )
    if parsed.rejected:
        typer.secho(f"{len(parsed.rejected)} rows rejected:", fg=typer.colors.YELLOW, err=True)
        for row in parsed.rejected:
            typer.echo(f"  line {row.line}: {'; '.join(row.reasons)}", err=True)
        raise typer.Exit(1)


def main() -> None:
    cli()
