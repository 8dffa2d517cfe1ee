"""Command-line tools: `flask graph migrate`, `flask graph warm`, `flask tokens create`, `flask demo load`,
`flask audit verify`."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from app.audit import audit_key, cli_entry
from app.extensions import graph

graph_cli = AppGroup("graph", help="The graph database.")
tokens_cli = AppGroup("tokens", help="API tokens.")
demo_cli = AppGroup("demo", help="The demo province.")
audit_cli = AppGroup("audit", help="The audit trail.")


@audit_cli.command("verify")
def audit_verify_command():
    """Recompute the audit trail's keyed chain with the configured key; exit 1 at the first broken entry."""
    from flask import current_app

    from app.audit import describe_verification
    from graph import audit

    result = audit.verify(graph(), audit_key(current_app))
    for line in describe_verification(result):
        click.echo(line, err=not result["ok"])
    if not result["ok"]:
        raise SystemExit(1)


@graph_cli.command("migrate")
def migrate_command():
    """Apply pending schema migrations (constraints and indexes)."""
    from graph.migrate import migrate

    applied = migrate(graph())
    click.echo("applied: " + ", ".join(applied) if applied else "schema is current")


@graph_cli.command("warm")
@click.option("--seconds", default=20.0, show_default=True, type=click.FloatRange(min=0.0),
              help="the whole budget: the reads loop until it is spent")
@click.option("--codes", default=50, show_default=True, type=click.IntRange(min=0),
              help="lot codes and item codes each sampled for the reads")
@click.option("--every", default=5.0, show_default=True, type=click.FloatRange(min=0.0),
              help="seconds between progress lines")
def warm_command(seconds, codes, every):
    """Warm a freshly (re)started Neo4j before it takes traffic (plans, JIT, page cache; commits nothing)."""
    import time

    from graph.warm import warm

    last = [time.monotonic()]

    def progress(done: dict) -> None:
        if time.monotonic() - last[0] >= every:
            last[0] = time.monotonic()
            click.echo(f"  {done['seconds']:.0f} s: {_warm_counts(done)}")

    done = warm(graph(), seconds=seconds, codes=codes, progress=progress)
    stopped = f"; stopped: {done['stopped']}" if done["stopped"] else ""
    click.echo(f"warmed in {done['seconds']:.1f} s: {_warm_counts(done)} of {done['codes']} sampled codes{stopped}")
    if done["stopped"] and done["stopped"].startswith(("database", "error")):
        raise SystemExit(1)  # a script that warms before routing traffic learns the server is not ready


def _warm_counts(done: dict) -> str:
    return (f"{done['statements_planned']} write statements planned (rolled back), {done['pages']} consumer pages, "
            f"{done['traces']} traces, {done['recalls']} recall notices")


@tokens_cli.command("create")
@click.option("--role", required=True, type=click.Choice(["producer", "lab", "regulator", "admin"]))
@click.option("--party", "party_gln", default=None, help="GLN of the party the token acts for")
@click.option("--label", default="", help="who holds the token")
def create_token_command(role, party_gln, label):
    """Create a token and print it once (only its hash is stored)."""
    from graph import audit, tokens
    from gs1.keys import validate_gln

    if party_gln:
        try:
            party_gln = validate_gln(party_gln)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--party") from exc
    if role not in tokens.ROLES or (role in ("producer", "lab") and not party_gln):
        raise click.UsageError(f"a {role} token needs a party (--party)")
    # The token and its audit entry commit in one transaction: no token exists without its line in the trail.
    entry = cli_entry("cli.tokens.create", outcome="done", path="tokens create", role=role, party_gln=party_gln,
                      detail={"label": label})
    created, _ = audit.write_audited(graph(), audit_key(), tokens.create_tx,
                                     lambda made: {**entry, "token_id": made["token_id"]},
                                     tokens.new_token(), role, party_gln, label)
    click.echo(created["token"])


@tokens_cli.command("revoke")
@click.argument("token_id")
def revoke_token_command(token_id):
    """Revoke a token by its id (the 8 hex characters after tg_)."""
    from graph import audit, tokens

    entry = cli_entry("cli.tokens.revoke", outcome="done", path="tokens revoke", token_id=token_id)
    audit.write_audited(graph(), audit_key(), tokens.revoke_tx, entry, token_id)
    click.echo(f"revoked {token_id}")


@demo_cli.command("load")
@click.option("--if-empty", is_flag=True, help="load only when the database holds no events")
def demo_load_command(if_empty):
    """Load the demo Jilin province (idempotent) and print demo lots and tokens."""
    from flask import current_app

    from app import demo

    summary = demo.load(current_app, only_if_empty=if_empty)
    if summary is None:
        click.echo("database not empty: demo not loaded")
    else:
        click.echo(demo.describe(summary))
    # Workbench accounts for the demo's parties, also on a demo store loaded before accounts existed; never on a
    # store that holds no demo parties (a demo admin account there would be a back door).
    if summary is not None or _demo_parties_present(demo):
        from app.accounts import create_demo_users, describe_demo_users

        made = create_demo_users(current_app, [{"key": k, **p} for k, p in demo.P.items()])
        click.echo(describe_demo_users(made, current_app.config["PUBLIC_BASE_URL"]))


def _demo_parties_present(demo) -> bool:
    """Whether this store holds the demo province's parties."""
    from app.extensions import graph
    from graph import parties
    from graph.errors import NotFound

    try:
        parties.get(graph(), next(iter(demo.P.values()))["gln"])
    except NotFound:
        return False
    return True


def register_cli(app: Flask) -> None:
    """Add the command groups to `flask`."""
    for group in (graph_cli, tokens_cli, demo_cli, audit_cli):
        app.cli.add_command(group)
    from app.accounts import users_cli
    from app.backup import backup_command, restore_command
    from app.capture_cli import epcis_cli

    app.cli.add_command(epcis_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
    from app.supervision import alerts_cli

    app.cli.add_command(alerts_cli)
    from app.notify import register as register_notify

    register_notify(app)
