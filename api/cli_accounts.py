"""``diachiso user ...`` and ``diachiso token ...``: staff accounts and API tokens from the command line.

The first admin is made here (``diachiso user add NAME --role admin``): the web API has
no way in before an account exists. Passwords are read from a prompt (not echoed,
asked twice) or, with ``--password-stdin``, from the first line of standard input;
never from an option, which would leave them in the shell history.
"""

from __future__ import annotations

import getpass
import sys
from typing import Annotated

import typer
from rich.console import Console
from sqlalchemy import Engine

from addresses import pgcluster
from addresses.account_store import (
    MIN_PASSWORD_CHARS,
    AccountInfo,
    create_account,
    create_api_token,
    disable_account,
    list_accounts,
    list_tokens,
    revoke_token,
)
from addresses.db import make_engine
from addresses.errors import InvalidParameterError
from addresses.schema import ROLES
from addresses.settings import DatabaseSettings

user_app = typer.Typer(help="Staff accounts: add, list, disable (never deleted).", no_args_is_help=True)
token_app = typer.Typer(
    help="API tokens for machines: create (shown once), list, revoke.", no_args_is_help=True
)
console = Console(stderr=True)

RoleOption = Annotated[str, typer.Option("--role", help=f"one of {', '.join(ROLES)}")]
CommuneOption = Annotated[
    list[str] | None,
    typer.Option("--commune", help="GSO code of a current commune or ward (repeat for several)"),
]


def _engine() -> Engine:
    settings = DatabaseSettings()
    return make_engine(pgcluster.database_url(settings), settings)


def read_password(*, from_stdin: bool) -> str:
    """The new password: the first line of stdin, or typed twice at a prompt."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass(f"password (at least {MIN_PASSWORD_CHARS} characters): ")
    if getpass.getpass("the same password again: ") != first:
        raise InvalidParameterError("password", "the two passwords typed differ; nothing was written")
    return first


def _communes(info: AccountInfo | tuple[int, ...] | None) -> str:
    ids = info.commune_ids if isinstance(info, AccountInfo) else info
    return "every commune" if ids is None else ", ".join(str(unit) for unit in ids) or "-"


@user_app.command("add")
def user_add(
    name: Annotated[str, typer.Argument(help="user name: letters, digits, . _ @ -")],
    role: RoleOption,
    commune: CommuneOption = None,
    display_name: Annotated[str | None, typer.Option(help="the name shown in the viewer")] = None,
    language: Annotated[str, typer.Option(help="vi or en: the viewer's language")] = "vi",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="read the password from stdin")
    ] = False,
) -> None:
    """Add an account (editors and approvers need --commune); the password is asked for."""
    password = read_password(from_stdin=password_stdin)
    with _engine().begin() as conn:
        account_id = create_account(
            conn,
            username=name,
            role=role,
            password=password,
            communes=commune or (),
            display_name=display_name,
            language=language,
        )
    console.print(f"account {name!r} ({role}) created with id {account_id}", markup=False)


@user_app.command("list")
def user_list() -> None:
    """Every account: id, user name, role, communes (ids), whether disabled."""
    with _engine().connect() as conn:
        accounts = list_accounts(conn)
    for info in accounts:
        state = "disabled" if info.disabled else "active"
        typer.echo(f"{info.id}\t{info.username}\t{info.role}\t{_communes(info)}\t{state}")


@user_app.command("disable")
def user_disable(name: Annotated[str, typer.Argument(help="user name")]) -> None:
    """Disable an account: its log-ins, sessions and tokens stop working (it is kept)."""
    with _engine().begin() as conn:
        disable_account(conn, username=name)
    console.print(f"account {name!r} disabled", markup=False)


@token_app.command("create")
def token_create(
    user: Annotated[str, typer.Option("--user", help="the account the token acts for")],
    name: Annotated[str, typer.Option("--name", help="what the token is for")],
    role: Annotated[str | None, typer.Option("--role", help="at most the account's role")] = None,
    commune: CommuneOption = None,
    expires_days: Annotated[
        float | None, typer.Option("--expires-days", help="days until it expires")
    ] = None,
) -> None:
    """Create an API token and print it, this once only (only its hash is kept)."""
    with _engine().begin() as conn:
        made = create_api_token(
            conn, username=user, name=name, role=role, communes=commune, expires_days=expires_days
        )
    console.print(f"token {made.id} created; copy it now, it is not shown again:", markup=False)
    typer.echo(made.token)


@token_app.command("list")
def token_list() -> None:
    """Every API token: id, prefix, user, name, role, communes, expiry, last use, revoked."""
    with _engine().connect() as conn:
        tokens = list_tokens(conn)
    for item in tokens:
        fields = [
            str(item.id),
            item.prefix + "...",
            item.username,
            item.name,
            item.role,
            _communes(item.commune_ids) if item.commune_ids is not None else "account's communes",
            item.expires_at.isoformat() if item.expires_at else "no expiry",
            item.last_used_at.isoformat() if item.last_used_at else "never used",
            "revoked" if item.revoked else "active",
        ]
        typer.echo("\t".join(fields))


@token_app.command("revoke")
def token_revoke(token_id: Annotated[int, typer.Argument(help="the token's id (token list)")]) -> None:
    """Revoke an API token for good."""
    with _engine().begin() as conn:
        revoke_token(conn, token_id=token_id)
    console.print(f"token {token_id} revoked", markup=False)
