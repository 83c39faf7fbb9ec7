"""``ai4cop blueprint check``: a pipeline's graph, messages and the platform's proto rules."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    blueprint = subparsers.add_parser("blueprint", help="check a pipeline blueprint.json")
    actions = blueprint.add_subparsers(dest="action", metavar="ACTION", required=True)
    check = actions.add_parser("check", help="graph, message and platform proto checks; exit 1 on any problem")
    check.add_argument("blueprint", type=Path)
    check.add_argument("--protos", type=Path, help="folder of <node>.proto files (default: our components' protos)")
    check.set_defaults(func=_check)


def _check(args: argparse.Namespace) -> int:
    from components.orchestrator.service import load_pipeline
    from components.runner.pipeline import node_protos, read_text
    from onboarding.protocheck import check_files

    text = read_text(args.blueprint)
    protos = node_protos(text, args.protos)
    pipeline = load_pipeline(text, None, protos)
    problems = [f"{args.blueprint}: {p}" for p in pipeline.problems]
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for key, proto in protos.items():
            path = Path(tmp) / key
            path.write_text(proto, encoding="utf-8")
            paths.append(path)
        for violation in check_files(paths):
            problems.append(str(violation).replace(f"{tmp}/", f"{args.protos or 'proto'}/"))
    for line in problems:
        print(line)
    for warning in pipeline.warnings:
        print(f"{args.blueprint}: warning: {warning}")
    if problems:
        return 1
    assert pipeline.blueprint is not None
    nodes, links = len(pipeline.blueprint.nodes), len(pipeline.blueprint.links)
    print(f"{args.blueprint}: OK ({nodes} node{'s' * (nodes != 1)}, {links} link{'s' * (links != 1)})")
    return 0
