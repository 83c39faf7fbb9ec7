"""``ai4cop proto check FILE...`` and ``ai4cop proto split [--check]``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    proto = subparsers.add_parser("proto", help="check and split platform .proto files")
    actions = proto.add_subparsers(dest="action", metavar="ACTION", required=True)

    check = actions.add_parser("check", help="check .proto files against the platform rules")
    check.add_argument("files", nargs="+", type=Path, metavar="FILE")
    check.set_defaults(func=_check)

    split = actions.add_parser("split", help="write components/<name>/model.proto from the root model.proto, "
                                             "and the *_pb2.pyi type stubs")
    split.add_argument("--root", type=Path, default=Path("model.proto"),
                       help="the root contract (default: %(default)s)")
    split.add_argument("--check", action="store_true", help="only report stale files, exit 1 if any")
    split.set_defaults(func=_split)


def _check(args: argparse.Namespace) -> int:
    from onboarding.protocheck import check_files

    violations = check_files(args.files)
    for violation in violations:
        print(violation)
    if violations:
        return 1
    print(f"{len(args.files)} file(s) follow the platform rules")
    return 0


def _split(args: argparse.Namespace) -> int:
    from onboarding.protosplit import split

    stale = split(args.root, check=args.check)
    for path in stale:
        print(f"{path}: {'stale, run: ai4cop proto split' if args.check else 'written'}",
              file=sys.stderr if args.check else sys.stdout)
    if args.check and stale:
        return 1
    if not stale:
        print("component protos are up to date")
    return 0
