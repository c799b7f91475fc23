"""`telecare org|home|device|user ...`: the registry, provisioning and accounts from the command line."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import sys
from datetime import timedelta
from typing import Any
from uuid import UUID

import asyncpg
import orjson

from accounts import service as accounts
from accounts.tenancy import Role
from devices import queries
from devices import service as devices
from devices.schemas import DeviceType
from homes import queries as home_queries
from kernel.settings import Settings
from telecare.runtime import start_embedded
from telecare.services import registry_session


def add_commands(sub: Any) -> None:
    """Add the registry commands to the top-level subparsers."""
    org = sub.add_parser("org", help="care-provider organisations").add_subparsers(
        dest="action", required=True
    )
    org.add_parser("create", help="create an organisation").add_argument("name")

    home = sub.add_parser("home", help="homes").add_subparsers(dest="action", required=True)
    create = home.add_parser("create", help="create a home")
    create.add_argument("--org", type=UUID, required=True)
    create.add_argument("--timezone", default="Europe/London")
    create.add_argument("--address", default="")
    create.add_argument("name")

    device = sub.add_parser("device", help="devices and their broker identities").add_subparsers(
        dest="action", required=True
    )
    register = device.add_parser("register", help="register a device; prints its password once")
    register.add_argument("--home", type=UUID, required=True)
    register.add_argument("--type", choices=[t.value for t in DeviceType], required=True)
    register.add_argument("--room", default="")
    register.add_argument("--model", default="")
    for action in ("rotate", "revoke", "decommission"):
        device.add_parser(action, help=f"{action} a device").add_argument("device_id", type=UUID)
    device.add_parser("list", help="devices and their health").add_argument("--home", type=UUID)
    device.add_parser("sync", help="re-apply the registry to the broker (after it lost its state)")

    user = sub.add_parser("user", help="accounts").add_subparsers(dest="action", required=True)
    create_user = user.add_parser(
        "create",
        help="create an account; prints an invitation token to set its password, unless --password-stdin",
    )
    create_user.add_argument("--email", required=True)
    create_user.add_argument(
        "--role", choices=[r.value for r in Role if r is not Role.INTEGRATION], required=True
    )
    create_user.add_argument("--org", type=UUID, help="the organisation (coordinators and carers)")
    create_user.add_argument("--name", default="")
    create_user.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )


def run_command(args: argparse.Namespace, settings: Settings) -> None:
    """Run one registry command, attaching to (or starting) embedded servers where none are configured."""
    resolved, embedded = start_embedded(settings, attach=True)
    try:
        result = asyncio.run(_dispatch(args, resolved))
    finally:
        embedded.stop()
    print(orjson.dumps(result, option=orjson.OPT_INDENT_2, default=str).decode())


async def _dispatch(args: argparse.Namespace, settings: Settings) -> Any:
    root = settings.mqtt_topic_root
    async with registry_session(settings, client="telecare-cli") as (pool, admin):
        match (args.command, args.action):
            case ("org", "create"):
                async with pool.acquire() as conn:
                    return {"id": await home_queries.insert_organisation(conn, name=args.name)}
            case ("home", "create"):
                async with pool.acquire() as conn:
                    home_id = await home_queries.insert_home(
                        conn,
                        organisation_id=args.org,
                        name=args.name,
                        timezone=args.timezone,
                        address=args.address,
                    )
                return {"id": home_id}
            case ("device", "register"):
                return dataclasses.asdict(
                    await devices.register_device(
                        pool,
                        admin,
                        topic_root=root,
                        home_id=args.home,
                        device_type=args.type,
                        room=args.room,
                        model=args.model,
                    )
                )
            case ("device", "rotate"):
                return dataclasses.asdict(
                    await devices.rotate_password(pool, admin, topic_root=root, device_id=args.device_id)
                )
            case ("device", "revoke"):
                await devices.revoke(pool, admin, topic_root=root, device_id=args.device_id)
                return {"revoked": args.device_id}
            case ("device", "decommission"):
                await devices.decommission(pool, admin, topic_root=root, device_id=args.device_id)
                return {"decommissioned": args.device_id}
            case ("device", "list"):
                async with pool.acquire() as conn:
                    return [dict(r) for r in await queries.select_health(conn, home_id=args.home)]
            case ("device", "sync"):
                return dataclasses.asdict(await devices.sync_broker(pool, admin, topic_root=root))
            case ("user", "create"):
                return await _create_user(args, pool, settings)
    raise ValueError(f"unknown command {args.command} {args.action}")


async def _create_user(args: argparse.Namespace, pool: asyncpg.Pool, settings: Settings) -> Any:
    role = Role(args.role)
    async with pool.acquire() as conn:
        if args.password_stdin:
            password = sys.stdin.readline().rstrip("\n")
            user = await accounts.create_user(
                conn, email=args.email, name=args.name, role=role, organisation_id=args.org, password=password
            )
            return dataclasses.asdict(user)
        user, token, expires = await accounts.invite(
            conn,
            lifetime=timedelta(days=settings.invitation_days),
            email=args.email,
            name=args.name,
            role=role,
            organisation_id=args.org,
            by=None,
        )
    return {
        "user": dataclasses.asdict(user),
        "invitation_token": token,
        "expires_at": expires,
        "next": 'POST /v1/invitations/accept with {"token": ..., "password": ...}, then log in',
    }
