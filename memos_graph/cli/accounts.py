"""User and cube commands: create and list users, create, share, dump and import cubes."""

from __future__ import annotations

import argparse
import dataclasses
from typing import Any

from memos_graph.cli.session import Outcome, Session, to_jsonable
from memos_graph.domain import Permission, UserRole
from memos_graph.mos import user_list_shape
from memos_graph.services.transfer import TransferReport


def run_user_create(args: argparse.Namespace, session: Session) -> Outcome:
    """Create a user with a fresh API key, shown only now (the graph keeps its hash), as createUser does."""
    actor = session.actor()
    user, key = session.mos.users.create_user_with_key(actor, args.user_id, UserRole(args.role), args.name)
    return Outcome(
        {"user": to_jsonable(user), "api_key": key},
        f"created {user.role.value} '{user.user_id}' ({user.user_name})\n"
        f"API key (shown once, only its hash is stored): {key}",
    )


def run_user_list(args: argparse.Namespace, session: Session) -> Outcome:
    """Active users (ROOT and ADMIN only)."""
    users = user_list_shape(session.mos.users.list_users(session.actor()))
    lines = [f"{'ID':<32} {'ROLE':<6} {'CREATED':<32} NAME"]
    lines += [f"{u['user_id']:<32} {u['role']:<6} {u['created_at']:<32} {u['user_name']}" for u in users]
    return Outcome({"users": to_jsonable(users)}, "\n".join(lines))


def run_user_deactivate(args: argparse.Namespace, session: Session) -> Outcome:
    """Refuse every call and key of a user (ROOT; ADMIN for USER and GUEST)."""
    user = session.mos.users.deactivate_user(session.actor(), args.user_id)
    return Outcome({"user": to_jsonable(user)}, f"deactivated '{user.user_id}'")


def run_user_reactivate(args: argparse.Namespace, session: Session) -> Outcome:
    """Undo `user deactivate`."""
    user = session.mos.users.reactivate_user(session.actor(), args.user_id)
    return Outcome({"user": to_jsonable(user)}, f"reactivated '{user.user_id}'")


def run_user_delete(args: argparse.Namespace, session: Session) -> Outcome:
    """ROOT only: delete a user with its own cubes, their contents, its chat history and its key."""
    cube_ids = session.mos.users.delete_user(session.actor(), args.user_id)
    return Outcome(
        {"user_id": args.user_id, "deleted_cubes": cube_ids},
        f"deleted user '{args.user_id}' and {len(cube_ids)} cube(s): {', '.join(cube_ids) or '-'}",
    )


def run_user_reset_key(args: argparse.Namespace, session: Session) -> Outcome:
    """Stop a user's API key; prints the new one (own key, or as ROOT), shown only now. As an ADMIN it only
    revokes another user's key, as resetApiKey does (api_key null)."""
    key = session.mos.users.reset_api_key(session.actor(), args.user_id)
    if key is None:
        return Outcome(
            {"user_id": args.user_id, "api_key": None, "revoked": True},
            f"revoked the API key of '{args.user_id}'; ROOT issues a new one (memos-graph user reset-key)",
        )
    return Outcome(
        {"user_id": args.user_id, "api_key": key, "revoked": True},
        f"new API key for '{args.user_id}' (shown once; the old key no longer works): {key}",
    )


def run_cube_create(args: argparse.Namespace, session: Session) -> Outcome:
    """Create a cube, owned by --owner or the acting user, and loaded for its owner."""
    actor = session.actor()
    owner = args.owner or actor.user_id
    cube = session.mos.cubes.create_cube(actor, args.name, owner, None, args.id)
    return Outcome(
        {"cube": to_jsonable(cube)}, f"created cube '{cube.cube_id}' ({cube.cube_name}), owned by '{cube.owner_id}'"
    )


def run_cube_share(args: argparse.Namespace, session: Session) -> Outcome:
    """Share a cube (owner, ROOT or ADMIN only)."""
    permission = Permission(args.permission)
    session.mos.cubes.share(session.actor(), args.cube_id, args.target_user_id, permission)
    return Outcome(
        {"cube_id": args.cube_id, "user_id": args.target_user_id, "permission": permission.value, "shared": True},
        f"shared cube '{args.cube_id}' with '{args.target_user_id}' ({permission.value})",
    )


def run_cube_revoke(args: argparse.Namespace, session: Session) -> Outcome:
    """Take back a share of a cube."""
    removed = session.mos.cubes.revoke_share(session.actor(), args.cube_id, args.target_user_id)
    return Outcome(
        {"cube_id": args.cube_id, "user_id": args.target_user_id, "revoked": removed.value},
        f"revoked the {removed.value} share of cube '{args.cube_id}' with '{args.target_user_id}'",
    )


def run_cube_delete(args: argparse.Namespace, session: Session) -> Outcome:
    """Delete a cube and everything in it (owner or ROOT)."""
    session.mos.cubes.delete_cube(session.actor(), args.cube_id)
    return Outcome({"cube_id": args.cube_id, "deleted": True}, f"deleted cube '{args.cube_id}'")


def _report(report: TransferReport, verb: str) -> Outcome:
    counts = {name: getattr(report, name) for name in ("memories", "versions", "messages", "documents", "edges")}
    summary = ", ".join(f"{value} {name}" for name, value in counts.items())
    return Outcome(
        to_jsonable(dataclasses.asdict(report)), f"{verb} cube '{report.cube_id}' ({report.path}): {summary}"
    )


def run_cube_dump(args: argparse.Namespace, session: Session) -> Outcome:
    """Write a cube the acting user may read as a MemOS cube directory (tree_text form)."""
    report = session.mos.services.transfer.dump(session.actor(), args.directory, args.cube_id)
    return _report(report, "dumped")


def run_cube_import(args: argparse.Namespace, session: Session) -> Outcome:
    """Import a MemOS cube directory as a new cube the acting user owns."""
    report = session.mos.services.transfer.import_directory(session.actor(), args.directory, args.cube_id)
    return _report(report, "imported")


def register(commands: argparse._SubParsersAction[Any], common: argparse.ArgumentParser) -> None:
    """Add the user and cube command groups."""
    user = commands.add_parser("user", help="create, list, deactivate, delete users; reset keys").add_subparsers(
        dest="user_command", metavar="{create,list,deactivate,reactivate,delete,reset-key}", required=True
    )
    create = user.add_parser(
        "create",
        parents=[common],
        help="create a user and print its API key (once)",
        description="Create a user as --user (ROOT or ADMIN). Prints the new user's API key for the GraphQL "
        "API; it is shown only now, the graph keeps only its SHA-256.",
    )
    create.add_argument("user_id")
    create.add_argument("--name", help="display name (default: the id)")
    create.add_argument("--role", choices=[r.value for r in UserRole if r is not UserRole.ROOT], default="user")
    create.set_defaults(handler=run_user_create)
    listing = user.add_parser("list", parents=[common], help="list active users (ROOT and ADMIN)")
    listing.set_defaults(handler=run_user_list)
    for name, handler, text in (
        ("deactivate", run_user_deactivate, "refuse every call and key of a user (ROOT; ADMIN for USER/GUEST)"),
        ("reactivate", run_user_reactivate, "undo deactivate"),
        ("delete", run_user_delete, "ROOT: delete a user, its own cubes with their contents, its history and key"),
        (
            "reset-key",
            run_user_reset_key,
            "stop a user's API key: print the new one (own; ROOT: another's); an ADMIN only revokes",
        ),
    ):
        managed = user.add_parser(name, parents=[common], help=text, description=text)
        managed.add_argument("user_id")
        managed.set_defaults(handler=handler)

    cube = commands.add_parser("cube", help="create, share, revoke, delete, dump and import cubes").add_subparsers(
        dest="cube_command", metavar="{create,share,revoke,delete,dump,import}", required=True
    )
    create = cube.add_parser("create", parents=[common], help="create a cube (loaded for its owner)")
    create.add_argument("name")
    create.add_argument("--id", help="the cube id (default: a new UUID)")
    create.add_argument("--owner", help="owning user (default: --user); only ROOT and ADMIN create for others")
    create.set_defaults(handler=run_cube_create)

    share = cube.add_parser("share", parents=[common], help="share a cube with another user")
    share.add_argument("cube_id")
    share.add_argument("target_user_id", metavar="user_id")
    share.add_argument("--permission", choices=[p.value for p in Permission], default=Permission.READ.value)
    share.set_defaults(handler=run_cube_share)

    revoke = cube.add_parser("revoke", parents=[common], help="take back a share of a cube")
    revoke.add_argument("cube_id")
    revoke.add_argument("target_user_id", metavar="user_id")
    revoke.set_defaults(handler=run_cube_revoke)

    delete = cube.add_parser("delete", parents=[common], help="delete a cube and everything in it (owner, ROOT)")
    delete.add_argument("cube_id")
    delete.set_defaults(handler=run_cube_delete)

    dump = cube.add_parser(
        "dump",
        parents=[common],
        help="write a cube as a MemOS cube directory",
        description="Write the cube as config.json + textual_memory.json into DIRECTORY, which must not exist "
        "or be empty. With transfer.roots (MEMOS_TRANSFER_ROOTS) configured it must lie inside one.",
    )
    dump.add_argument("cube_id")
    dump.add_argument("directory")
    dump.set_defaults(handler=run_cube_dump)

    load = cube.add_parser(
        "import",
        parents=[common],
        help="import a MemOS cube directory as a new cube",
        description="Import a MemOS cube directory (general_text or tree_text) as a cube --user owns; the "
        "id is --cube-id, else the directory's cube_id. Nothing stays if the import fails.",
    )
    load.add_argument("directory")
    load.add_argument("--cube-id", help="id of the new cube (default: the one in config.json)")
    load.set_defaults(handler=run_cube_import)
