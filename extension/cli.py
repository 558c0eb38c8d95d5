"""`om-bridge extension build|export` (dispatched here by `bridge.cli`)."""

from __future__ import annotations

import argparse
import json
import sys

from . import messages
from .build import build_extension
from .registry import NODE_TYPES


def export_descriptors() -> list[dict]:
    """Every registered node descriptor as createNodeDescriptor-shaped JSON data."""
    return [n.descriptor.to_dict() for n in NODE_TYPES.values()]


def main(args: argparse.Namespace) -> int:
    """Run the `extension` sub-command named by `args.extension_command`."""
    if args.extension_command == "build":
        path = build_extension(
            getattr(args, "out", "dist") or "dist", getattr(args, "bridge_url", None)
        )
        print(messages.built(str(path)))
        return 0
    if args.extension_command == "export":
        json.dump(export_descriptors(), sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
        return 0
    print(f"unknown extension command {args.extension_command!r}", file=sys.stderr)
    return 2
