"""The ``ai4cop`` command line: one parser; each component's ``cli`` module (found through the component
catalogue) and each tool area's registers its sub-commands."""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys
from collections.abc import Sequence

from pydantic import ValidationError

from components.common.catalogue import CATALOGUE
from components.common.errors import Ai4copError
from components.common.settings import describe_invalid

# Each module has ``register(subparsers)`` adding commands whose handler (``func``) returns an exit code.
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


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; domain errors become one readable line on stderr and a non-zero exit."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except Ai4copError as err:
        return _fail(args.command, str(err))
    except ValidationError as err:
        # settings from the environment (COMAX_QA_MIN=abc ...): name the variable and what is wrong
        return _fail(args.command, describe_invalid(err))
    except ModuleNotFoundError as err:
        extra = getattr(args, "extra", "")
        if not extra or not err.name or err.name.split(".")[0] in ("components", "onboarding"):
            raise
        return _fail(args.command, f"needs the '{extra}' extra (the {err.name} module is not installed): "
                                   f"pip install 'ai4cop[{extra}]'")
    except BrokenPipeError:
        # the reader went away (ai4cop ... | head): not an error worth a traceback
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        return _fail(args.command, "interrupted", 130)


def _fail(command: str, message: str, code: int = 2) -> int:
    print(f"ai4cop {command}: error: {message}", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
