"""``stackyard``: render and preview a Pulumi Kubernetes program offline, without the Pulumi CLI."""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from pathlib import Path

import pulumi
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.tree import Tree

from .manifests import SecretLeakError
from .mockrt import Registration
from .project import ProjectError
from .render import RenderError, Rendering, check_output_dir, evaluate_stack, write_rendering

_STACK_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")

#: Exit codes: 0 success, 1 the program failed, 2 bad input (arguments, project files, config).
EXIT_PROGRAM_FAILED = 1
EXIT_BAD_INPUT = 2


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``stackyard`` and ``python -m stackyard``; returns the exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    out, err = Console(highlight=False, soft_wrap=True), Console(stderr=True, highlight=False, soft_wrap=True)
    if not _STACK_NAME.match(args.stack):
        parser.error(f"stack {args.stack!r}: a stack name has 1-100 letters, digits, '-', '_' or '.'")
    project_dir = Path(args.project)
    try:
        if args.command == "render":
            out_dir = Path(args.out) if args.out else Path("out") / args.stack
            check_output_dir(out_dir.resolve())
            rendering = evaluate_stack(project_dir, args.stack)
            write_rendering(rendering, out_dir)
            _print_render_summary(out, rendering, out_dir)
        else:
            rendering = evaluate_stack(project_dir, args.stack)
            _print_tree(out, rendering)
            _print_counts(out, rendering)
        _print_warnings(err, rendering)
    except (ProjectError, pulumi.RunError, RenderError) as error:
        # RunError is how a program reports bad config: its message is the whole story.
        err.print(f"[bold red]error:[/] {escape(str(error))}")
        return EXIT_BAD_INPUT
    except SecretLeakError as error:
        err.print(f"[bold red]error:[/] {escape(str(error))}")
        return EXIT_PROGRAM_FAILED
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="stackyard",
        description="Render or preview a Pulumi Kubernetes stack offline, under the Pulumi SDK's mock runtime.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    render = commands.add_parser("render", help="write the stack's manifests as YAML (renderYamlToDirectory layout)")
    preview = commands.add_parser("preview", help="print the resource tree and a count per kind")
    for command in (render, preview):
        command.add_argument("stack", help="the stack to evaluate, e.g. dev (reads Pulumi.<stack>.yaml)")
        command.add_argument("--project", default=".", metavar="DIR", help="the Pulumi project folder (default: .)")
    render.add_argument("--out", metavar="DIR", help="output folder, replaced as a whole (default: out/<stack>)")
    return parser


def _print_render_summary(console: Console, rendering: Rendering, out_dir: Path) -> None:
    _print_counts(console, rendering)
    inputs = rendering.inputs
    console.print(
        escape(f"Rendered {len(rendering.manifests)} objects of {inputs.project}/{inputs.stack} to {out_dir}")
    )
    if rendering.records:
        console.print(
            escape(
                f"Recorded {len(rendering.records)} chart(s) and remote file(s) under charts/: their own objects "
                "are expanded only by the real engine (pulumi up)"
            )
        )
    for key in inputs.placeholders:
        console.print(escape(f"note: {key} is a secure value that cannot be decrypted offline; a placeholder was used"))


def _print_counts(console: Console, rendering: Rendering) -> None:
    table = Table(title=escape(f"{rendering.inputs.project}/{rendering.inputs.stack}: objects per kind"))
    table.add_column("kind")
    table.add_column("count", justify="right")
    counts = rendering.counts()
    for kind in sorted(counts):
        table.add_row(escape(kind), str(counts[kind]))
    table.add_row("[bold]total[/]", f"[bold]{sum(counts.values())}[/]")
    console.print(table)


def _print_tree(console: Console, rendering: Rendering) -> None:
    """The resource tree as ``pulumi preview`` shows it: component, then children, type and name."""
    inputs = rendering.inputs
    root_urn = f"urn:pulumi:{inputs.stack}::{inputs.project}::pulumi:pulumi:Stack::{inputs.project}-{inputs.stack}"
    children: dict[str, list[Registration]] = {}
    for registration in rendering.registrations:
        children.setdefault(registration.parent_urn or root_urn, []).append(registration)
    tree = Tree(escape(f"pulumi:pulumi:Stack  {inputs.project}-{inputs.stack}"))
    _add_children(tree, root_urn, children)
    console.print(tree)


def _add_children(node: Tree, urn: str, children: dict[str, list[Registration]]) -> None:
    for child in sorted(children.get(urn, []), key=lambda r: (r.type, r.name)):
        branch = node.add(escape(f"{child.type}  {child.name}"))
        _add_children(branch, child.urn, children)


def _print_warnings(console: Console, rendering: Rendering) -> None:
    for warning in rendering.warnings:
        console.print(f"[yellow]warning:[/] {escape(warning)}")


if __name__ == "__main__":
    sys.exit(main())
