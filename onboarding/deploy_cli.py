"""``ai4cop images build|base``, ``ai4cop onboard`` and ``ai4cop export``: the deployment commands."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from components.common.registry import served_names

TOKEN_ENV = "AI4COP_ONBOARDING_TOKEN"
COMPONENT_NAMES = tuple(served_names())


def register(subparsers: argparse._SubParsersAction) -> None:
    images = subparsers.add_parser("images", help="build the components' container images")
    actions = images.add_subparsers(dest="action", metavar="ACTION", required=True)
    build = actions.add_parser("build", help="build images with docker (when its daemon answers) or buildah")
    build.add_argument("--registry", default=None,
                       help="registry/namespace prefix ('' for none; default: the root blueprint.json's, "
                            "ghcr.io/ai4cop)")
    build.add_argument("--tag", default=None, help="image tag (default: the package version, as in blueprint.json)")
    build.add_argument("--component", action="extend", nargs="+", choices=COMPONENT_NAMES, dest="components",
                       metavar="NAME", help="build only these components (default: every catalogue component)")
    build.add_argument("--base-image", help="BASE_IMAGE for the Dockerfile (default: python:3.11-slim)")
    build.set_defaults(func=_build)
    base = actions.add_parser("base", help="make a Python base image from Debian packages (debootstrap + buildah)")
    base.add_argument("--ref", default=None, help="image reference (default: localhost/ai4cop-base:bookworm)")
    base.add_argument("--mirror", help="Debian mirror URL for debootstrap (default: debootstrap's)")
    base.add_argument("--force", action="store_true", help="rebuild even when the image exists")
    base.set_defaults(func=_base)

    onboard = subparsers.add_parser("onboard", help="write a component's onboarding package, optionally upload it")
    onboard.add_argument("component", choices=COMPONENT_NAMES)
    onboard.add_argument("--image", required=True, help="the pullable image reference the platform will run")
    onboard.add_argument("-o", "--output", type=Path, help="package directory (default: onboarding-<component>)")
    onboard.add_argument("--name", help="model name on the platform (default: the image repository name)")
    onboard.add_argument("--push", metavar="URL", help="the platform's base URL: upload with its onboarding API")
    onboard.add_argument("--user", help=f"platform user for --push (the API token comes from ${TOKEN_ENV})")
    onboard.set_defaults(func=_onboard)

    export = subparsers.add_parser("export", help="export a blueprint as a Kubernetes solution zip")
    export.add_argument("blueprint", type=Path)
    export.add_argument("-o", "--output", type=Path, default=Path("solution.zip"),
                        help="the zip to write (default: %(default)s; a folder: solution.zip in it)")
    export.add_argument("--registry", default=None, help="re-point ai4cop images at this registry")
    export.add_argument("--tag", default=None, help="re-tag ai4cop images (default: keep the blueprint's)")
    export.add_argument("--namespace", default="ai4cop", help="Kubernetes namespace (default: %(default)s)")
    export.add_argument("--pull-secret", help="name of an image pull secret to reference")
    export.add_argument("--secret", default="ai4cop-credentials",
                        help="Secret whose keys become environment variables (default: %(default)s)")
    export.add_argument("--expose", action="extend", nargs="+", default=[], metavar="CONTAINER",
                        help="make these containers' Services reachable from outside (e.g. orchestrator)")
    export.add_argument("--expose-type", choices=("LoadBalancer", "NodePort"), default="LoadBalancer")
    export.add_argument("--replicas", action="extend", nargs="+", default=[], metavar="CONTAINER=N",
                        help="run N replicas behind a headless Service (round-robin over its endpoints)")
    export.add_argument("--shared-folder", metavar="PATH",
                        help="mount a ReadWriteMany volume at PATH in every pod (SHARED_FOLDER_PATH)")
    export.add_argument("--shared-size", default="10Gi", help="size of the shared volume (default: %(default)s)")
    export.add_argument("--storage-class", help="storage class of the shared volume (default: the cluster's)")
    export.add_argument("--config", type=Path, metavar="FILE",
                        help='per-container settings {"<container>": {"VAR": "value"}} (as for ai4cop run), '
                             "over the defaults for a deployed CO pipeline; credentials go in the Secret")
    export.set_defaults(func=_export)
    for command in (build, base, onboard, export):
        command.set_defaults(extra="deploy")


def _build(args: argparse.Namespace) -> int:
    from onboarding.images import DEFAULT_REGISTRY, IMAGES, build_images, image_size

    registry = DEFAULT_REGISTRY if args.registry is None else args.registry
    built = build_images(args.components or list(IMAGES), registry, args.tag, args.base_image)
    for image in built:
        print(f"{image.ref}\t{image_size(image.ref) / 1e6:.0f} MB\t{image.seconds:.0f} s")
    return 0


def _base(args: argparse.Namespace) -> int:
    from onboarding.baseimage import DEFAULT_BASE_IMAGE, build_base_image

    ref = args.ref or DEFAULT_BASE_IMAGE
    built = build_base_image(ref, mirror=args.mirror, force=args.force)
    print(ref if built else f"{ref} (already present)")
    return 0


def _onboard(args: argparse.Namespace) -> int:
    from pydantic import SecretStr

    from components.common.errors import InvalidInput
    from onboarding.onboard import onboarding_url, push, write_package

    token = SecretStr(os.environ.get(TOKEN_ENV, ""))
    # Checked before anything is written: a refused --push leaves no package behind.
    if args.push:
        onboarding_url(args.push)
        if not args.user or not token.get_secret_value():
            raise InvalidInput(f"--push needs --user and the API token in ${TOKEN_ENV}")
    output = args.output or Path(f"onboarding-{args.component}")
    package = write_package(args.component, args.image, output, args.name)
    print(f"wrote {package.directory}: model.proto, license.json, onboarding.json ({package.image})")
    if not args.push:
        return 0
    solution = push(package, args.push, args.user, token)
    print(f"onboarded {package.model_name}: solutionId {solution}")
    return 0


def _export(args: argparse.Namespace) -> int:
    from components.runner.pipeline import load_config
    from onboarding.export import ExportOptions, export_solution, parse_replicas

    options = ExportOptions(
        namespace=args.namespace, registry=args.registry, tag=args.tag, pull_secret=args.pull_secret,
        secret=args.secret, expose=tuple(args.expose), expose_type=args.expose_type,
        replicas=parse_replicas(args.replicas), shared_folder=args.shared_folder, shared_size=args.shared_size,
        storage_class=args.storage_class, config=load_config(args.config),
    )
    output = args.output / "solution.zip" if args.output.is_dir() else args.output
    files = export_solution(args.blueprint, output, options)
    print(f"wrote {output} ({len(files)} files)", file=sys.stdout)
    if "deployments/pvc.yaml" in files and not args.storage_class:
        print("note: the shared volume (deployments/pvc.yaml) needs a ReadWriteMany storage class; if the "
              "cluster's default cannot do that, export with --storage-class", file=sys.stderr)
    return 0
