"""The ``ai4cop`` command line: one parser; each component's ``cli`` module (found through the component
catalogue) and each tool area's registers its sub-commands."""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import sys
from collections.abc import Sequence

from pydantic import ValidationError

from components.common.catalogue import CATALOGUE
from components.common.settings import describe_invalid

# Each module has ``register(subparsers)`` adding commands whose handler (``func``) returns an exit code, and
# whose ``extra`` default names the pip extra they need (a component's commands get its catalogue entry's).
# Heavy imports stay inside the handlers so that ``ai4cop --help`` is fast.
BEFORE_COMPONENTS = ["onboarding.proto_cli", "components.common.serve_cli"]
AFTER_COMPONENTS = ["onboarding.deploy_cli", "onboarding.blueprint_cli", "components.runner.cli"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ai4cop", description="AI4Copernicus components for the AI4EU Experiments / Graphene platform"
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in BEFORE_COMPONENTS:
        importlib.import_module(name).register(subparsers)
    for entry in CATALOGUE:
        module = f"{entry.package}.cli"
        if importlib.util.find_spec(module) is None:
            continue
        before = set(subparsers.choices)
        importlib.import_module(module).register(subparsers)
        for name in set(subparsers.choices) - before:
            subparsers.choices[name].set_defaults(extra=entry.extra)
    for name in AFTER_COMPONENTS:
        importlib.import_module(name).register(subparsers)
    return parser


def quiet_grpc_core() -> None:
    """Keep gRPC's C core from writing its own log lines (``E1204 ... add_port.cc``, absl's ``WARNING: All log
    messages before absl::InitializeLog()...``) to the terminal: every command reports its failures in one line
    of its own. ``GRPC_VERBOSITY=debug`` still shows them. The core reads the variable when grpc is first imported,
    so this runs before anything imports grpc (this module imports nothing that does)."""
    os.environ.setdefault("GRPC_VERBOSITY", "NONE")


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; domain errors become one readable line on stderr and a non-zero exit."""
    quiet_grpc_core()
    from components.common.errors import Ai4copError

    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except Ai4copError as err:
        return _fail(args.command, str(err))
    except ValidationError as err:
        # settings from the environment (COMAX_QA_MIN=abc ...): name the variable and what is wrong
        return _fail(args.command, describe_invalid(err))
    except ModuleNotFoundError as err:
        extra = _extra_for(args, err.name or "")
        if not extra:
            raise
        return _fail(args.command, f"needs the '{extra}' extra (the {err.name} module is not installed): "
                                   f"pip install 'ai4cop[{extra}]'")
    except BrokenPipeError:
        # the reader went away (ai4cop ... | head): not an error worth a traceback
        sys.stderr.close()
        return 0
    except OSError as err:
        # a file or folder the command cannot use (a file where a folder is needed, no permission, disk full...)
        return _fail(args.command, _describe_os_error(err))
    except KeyboardInterrupt:
        return _fail(args.command, "interrupted", 130)


def _extra_for(args: argparse.Namespace, module: str) -> str:
    """The pip extra the command needs when ``module`` is missing ('' when it is one of ours: a real bug)."""
    top = module.split(".")[0]
    if not top or top in ("components", "onboarding"):
        return ""
    return str(getattr(args, "extra", "") or "")


def _describe_os_error(err: OSError) -> str:
    where = " -> ".join(str(name) for name in (err.filename, err.filename2) if name is not None)
    return f"{where}: {err.strerror}" if where and err.strerror else str(err)


def _fail(command: str, message: str, code: int = 2) -> int:
    print(f"ai4cop {command}: error: {message}", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
