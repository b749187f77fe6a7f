"""Commands that set up who uses the app: organisations, managers and their tokens, widget origins, the demo."""

from __future__ import annotations

import secrets
import sys
from urllib.parse import urlsplit

import click
from flask import current_app
from flask.cli import with_appcontext

from ..i18n import SUPPORTED_LOCALES
from ..store import db, managers
from ..store.models import ROLES
from ..store.organisations import OrganisationError, create_organisation, flow_label, organisation_by_slug, parse_flow_ref, pin_flow
from .common import bad_input, organisation_or_exit

DEMO_SLUG = "demo"
DEMO_MANAGER = "demo@example.org"


@click.command("create-org")
@click.argument("slug")
@click.option("--name", required=True, help="Display name of the organisation.")
@click.option("--locale", type=click.Choice(SUPPORTED_LOCALES), default="de", show_default=True)
@with_appcontext
def create_org(slug: str, name: str, locale: str) -> None:
    """Create an organisation and print its embed key (SLUG: a-z, 0-9 and '-', 1 to 63 characters)."""
    try:
        organisation = create_organisation(db.session(), slug, name, locale)
    except OrganisationError as exc:
        bad_input(str(exc))
    click.echo(organisation.embed_key)


@click.command("create-manager")
@click.argument("email")
@click.option("--org", "org_slugs", multiple=True, required=True, help="Slug of an organisation the manager belongs to (repeatable).")
@click.option("--role", type=click.Choice(ROLES), default=None, help="Role there [default: admin where nobody manages yet, else member].")
@click.option("--operator", is_flag=True, help="Operator: sees and administers every organisation (only given here).")
@click.option("--password-stdin", is_flag=True, help="Read a password for the manager area from the first line of standard input.")
@with_appcontext
def create_manager(email: str, org_slugs: tuple[str, ...], role: str | None, operator: bool, password_stdin: bool) -> None:
    """Create a manager and print their API token (shown once, stored hashed)."""
    organisations = [organisation_or_exit(slug) for slug in org_slugs]
    password = sys.stdin.readline().rstrip("\r\n") if password_stdin else None
    try:
        _manager, token = managers.create_manager(db.session(), email, organisations, password=password, role=role, operator=operator)
    except managers.ManagerExistsError as exc:
        bad_input(f"{exc} (add-member adds an organisation, rotate-token makes a new token)")
    except managers.ManagerError as exc:
        bad_input(str(exc))
    click.echo(token)


@click.command("add-member")
@click.argument("email")
@click.option("--org", "org_slug", required=True, help="Slug of the organisation.")
@click.option("--role", type=click.Choice(ROLES), default=None, help="Role there [default: admin of an organisation without managers, else member].")
@with_appcontext
def add_member(email: str, org_slug: str, role: str | None) -> None:
    """Let an existing manager see one more organisation."""
    session = db.session()
    manager = managers.manager_by_email(session, email)
    if manager is None:
        bad_input(f"no manager {managers.normalise_email(email)!r}")
    added = managers.add_membership(session, manager, organisation_or_exit(org_slug), role)
    click.echo(f"{manager.email} {'now belongs' if added else 'already belongs'} to {org_slug}")


@click.command("invite")
@click.argument("email")
@click.option("--org", "org_slug", required=True, help="Slug of the organisation.")
@click.option("--role", type=click.Choice(ROLES), default="member", show_default=True, help="Role there once accepted.")
@with_appcontext
def invite(email: str, org_slug: str, role: str) -> None:
    """Invite EMAIL to an organisation: the link (single-use, valid 7 days) is mailed, or printed when mail is off."""
    from flask import url_for

    from ..mail import mail_enabled
    from ..store import invitations
    from ..store.events import CLI

    organisation = organisation_or_exit(org_slug)
    send_mail = mail_enabled(current_app.config)
    try:
        invited = invitations.invite(
            db.session(),
            current_app.config,
            organisation,
            email,
            role,
            CLI,
            lambda token: url_for("manage.invitation", token=token, _external=True),
            send_mail=send_mail,
        )
    except invitations.InvitationError as exc:
        db.session().rollback()
        reasons = {"member": f"{managers.normalise_email(email)} belongs to {org_slug} already", "role": f"the role must be one of {', '.join(ROLES)}"}
        bad_input(reasons.get(exc.reason, f"{email!r} is not an e-mail address"))
    until = invited.invitation.expires_at.strftime("%Y-%m-%d %H:%M UTC")
    if invited.mailed:
        click.echo(f"invitation mailed to {invited.invitation.email} (valid until {until})")
    else:
        click.echo(f"mail is off: pass this link on to {invited.invitation.email} (single-use, valid until {until}):", err=True)
        click.echo(invited.link)


@click.command("rotate-token")
@click.argument("email")
@with_appcontext
def rotate_token(email: str) -> None:
    """Replace a manager's API token and print the new one (the old one stops working)."""
    session = db.session()
    manager = managers.manager_by_email(session, email)
    if manager is None:
        bad_input(f"no manager {managers.normalise_email(email)!r}")
    click.echo(managers.rotate_token(session, manager))


@click.command("allow-origins")
@click.argument("slug")
@click.argument("origins", nargs=-1)
@with_appcontext
def allow_origins(slug: str, origins: tuple[str, ...]) -> None:
    """Let the chat widget of SLUG run only on these web origins (e.g. https://www.example.de); none: any."""
    for origin in origins:
        parts = urlsplit(origin)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/"):
            bad_input(f"{origin!r} is not an origin like https://www.example.de")
    organisation = organisation_or_exit(slug)
    organisation.allowed_origins = " ".join(o.rstrip("/") for o in origins)
    db.session().commit()
    click.echo(f"{slug}: widget allowed on {organisation.allowed_origins or 'any web site'}")


@click.command("pin-flow")
@click.argument("slug")
@click.argument("flow")
@with_appcontext
def pin_flow_command(slug: str, flow: str) -> None:
    """Pin SLUG's new assessments to a flow version (FLOW: ID@VERSION, e.g. whatsapp_gdpr@1), or `latest` to unpin.

    Assessments already started finish on the version they started with.
    """
    try:
        choice = parse_flow_ref(flow, current_app.extensions["engines"].engines)
    except OrganisationError as exc:
        bad_input(str(exc))
    organisation = organisation_or_exit(slug)
    pin_flow(db.session(), organisation, choice)
    pinned = organisation.flow_version is not None
    click.echo(f"{slug}: new assessments use {flow_label(organisation)}{'' if pinned else ' (its latest version)'}")


@click.command("demo")
@with_appcontext
def demo() -> None:
    """Create the demo organisation and its manager if missing; print the embed key, a fresh token and password.

    Token and password are stored hashed, so each call makes new ones for the demo manager.
    """
    session = db.session()
    organisation = organisation_by_slug(session, DEMO_SLUG) or create_organisation(session, DEMO_SLUG, "Demo GmbH", "de")
    manager = managers.manager_by_email(session, DEMO_MANAGER)
    if manager is None:
        manager, token = managers.create_manager(session, DEMO_MANAGER, [organisation])
    else:
        token = managers.rotate_token(session, manager)
    password = secrets.token_urlsafe(12)
    managers.set_password(session, manager, password)
    click.echo(f"Demo organisation '{DEMO_SLUG}' ({organisation.name}), embed key: {organisation.embed_key}")
    click.echo(f"Demo manager {DEMO_MANAGER}, API token: {token}")
    click.echo(f"Manager area: /manage/ (log in as {DEMO_MANAGER} with the password {password})")
    click.echo(f"Wizard for the demo organisation: /w/{organisation.embed_key} (on this server)")
    click.echo("Chat widget on a demo page: /demo")


@click.command("reset-two-factor")
@click.argument("email")
@with_appcontext
def reset_two_factor(email: str) -> None:
    """Switch off a manager's two-factor login (lost phone, no recovery code left) and end their sessions; logged, and mailed to them."""
    from ..store import two_factor
    from ..store.events import CLI

    session = db.session()
    manager = managers.manager_by_email(session, email)
    if manager is None:
        bad_input(f"no manager {managers.normalise_email(email)!r}")
    two_factor.reset(session, manager, CLI)
    required = two_factor.required_for(session, current_app.config, manager)
    click.echo(f"{manager.email}: two-factor login reset; {'they set it up again at their next login' if required else 'they log in with the password alone'}")


COMMANDS = (create_org, create_manager, add_member, invite, rotate_token, reset_two_factor, allow_origins, pin_flow_command, demo)
