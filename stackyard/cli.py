"""``stackyard``: render, preview, audit and compare Pulumi Kubernetes stacks offline, without the Pulumi CLI."""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import pulumi
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.tree import Tree

from . import audit as auditing
from .chartsource import ChartOptions
from .diff import diff_exports
from .envdiff import diff_settings
from .manifests import SecretLeakError
from .mockrt import Registration
from .parallel import RenderOutcome, default_processes, render_stacks
from .project import ProjectError
from .render import RenderError, Rendering, check_output_dir, evaluate_stack
from .views import from_directory, from_rendering, is_export_dir, resolve

__all__ = ["EXIT_BAD_INPUT", "EXIT_FINDINGS", "EXIT_PROGRAM_FAILED", "main"]

_STACK_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")
_KUBERNETES_VERSION = re.compile(r"^1\.[0-9]{1,2}(\.[0-9]+)?$")

#: Exit codes: 0 success; 1 findings (audit violations, diff with --exit-code) or a failed program;
#: 2 bad input (arguments, project files, config).
EXIT_FINDINGS = 1
EXIT_PROGRAM_FAILED = 1
EXIT_BAD_INPUT = 2


class _Consoles:
    def __init__(self) -> None:
        # Wide when not on a terminal (CI logs, pipes), where rich would otherwise assume 80 columns.
        width = None if sys.stdout.isatty() else 160
        self.out = Console(highlight=False, soft_wrap=True, width=width)
        self.err = Console(stderr=True, highlight=False, soft_wrap=True, width=width)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``stackyard`` and ``python -m stackyard``; returns the exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    _check_arguments(parser, args)
    consoles = _Consoles()
    commands: dict[str, Callable[[argparse.Namespace, _Consoles], int]] = {
        "render": _render,
        "preview": _preview,
        "audit": _audit,
        "diff": _diff,
        "envdiff": _envdiff,
        "preflight": _preflight,
    }
    try:
        return commands[args.command](args, consoles)
    except (ProjectError, pulumi.RunError, RenderError) as error:
        # RunError is how a program reports bad config: its message is the whole story.
        consoles.err.print(f"[bold red]error:[/] {escape(str(error))}")
        return EXIT_BAD_INPUT
    except SecretLeakError as error:
        consoles.err.print(f"[bold red]error:[/] {escape(str(error))}")
        return EXIT_PROGRAM_FAILED


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="stackyard",
        description="Render, preview, audit and compare Pulumi Kubernetes stacks offline, under Pulumi's mocks.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    render = commands.add_parser("render", help="write the stack's manifests as YAML (renderYamlToDirectory layout)")
    preview = commands.add_parser("preview", help="print the resource tree and a count per kind")
    audit = commands.add_parser("audit", help="run the policies and strict schema validation on a stack or export")
    diff = commands.add_parser("diff", help="compare a fresh render of a stack with a previous export")
    envdiff = commands.add_parser("envdiff", help="show how the effective values of two stacks (or exports) differ")
    preflight = commands.add_parser(
        "preflight", help="check, read-only, that a cluster provides what the stack's export assumes"
    )
    preflight.add_argument("stack", help="the stack whose export to check, e.g. prod")
    preflight.add_argument(
        "--kubeconfig", metavar="PATH", help="the cluster's kubeconfig (default: $KUBECONFIG or ~/.kube/config)"
    )
    render.add_argument(
        "stacks", nargs="+", metavar="STACK", help="stacks to render, e.g. dev (reads Pulumi.<stack>.yaml)"
    )
    for command in (preview, diff):
        command.add_argument("stack", help="the stack to evaluate, e.g. dev (reads Pulumi.<stack>.yaml)")
    audit.add_argument("target", help="a stack name, or a folder holding an export")
    envdiff.add_argument("left", help="a stack name or an export folder, e.g. dev")
    envdiff.add_argument("right", help="a stack name or an export folder, e.g. prod")
    for command in (render, preview, audit, diff, envdiff, preflight):
        command.add_argument("--project", default=".", metavar="DIR", help="the Pulumi project folder (default: .)")
        _add_chart_arguments(command)
    render.add_argument(
        "--out",
        metavar="DIR",
        help="output folder, replaced as a whole (default: out/<stack>); with several stacks, DIR/<stack>",
    )
    render.add_argument(
        "--jobs",
        type=_positive_int,
        metavar="N",
        help=f"how many stacks render at once, each in a process holding it in memory "
        f"(default: one more than the cores, here {default_processes()}; with STACKYARD_NO_SPEEDUPS=1 "
        "they render one after another)",
    )
    audit.add_argument(
        "--kubernetes-version",
        default=auditing.DEFAULT_KUBERNETES_VERSION,
        metavar="X.Y",
        help=f"validate against this Kubernetes version (default: {auditing.DEFAULT_KUBERNETES_VERSION})",
    )
    audit.add_argument("--report", metavar="FILE", help="write the JSON report here (default: audit/<target>.json)")
    audit.add_argument("--sarif", metavar="FILE", help="also write the findings as SARIF 2.1.0")
    diff.add_argument("--against", metavar="DIR", help="the previous export (default: out/<stack>)")
    diff.add_argument("--exit-code", action="store_true", help="exit 1 when there are differences (a drift gate)")
    return parser


def _add_chart_arguments(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--charts",
        choices=("expand", "record", "auto"),
        default="expand",
        help="expand: every object of every chart and remote file, failing when one is not at hand (default); "
        "record: a record of each under charts/ instead; auto: expand what is at hand, record the rest",
    )
    command.add_argument(
        "--chart-dir",
        action="append",
        default=[],
        metavar="DIR",
        help="a folder of charts (DIR/<chart>/, DIR/<chart>-<version>.tgz) and remote files, searched before the "
        "cache and the network; may be given several times",
    )
    command.add_argument(
        "--offline",
        action="store_true",
        help="never download a chart or file: use only chartPath, --chart-dir and the cache",
    )


def _chart_options(args: argparse.Namespace) -> ChartOptions:
    return ChartOptions(mode=args.charts, chart_dirs=tuple(Path(d) for d in args.chart_dir), offline=args.offline)


def _preflight(args: argparse.Namespace, consoles: _Consoles) -> int:
    from . import preflight as checks  # noqa: PLC0415 - the Kubernetes client loads for this command only

    rendering = evaluate_stack(Path(args.project), args.stack, charts=_chart_options(args))
    export = checks.ExportFacts(
        objects=[m.body for m in rendering.manifests], records=[r.body for r in rendering.records]
    )
    if args.kubeconfig is not None and not Path(args.kubeconfig).is_file():
        consoles.err.print(f"[bold red]error:[/] --kubeconfig {escape(args.kubeconfig)}: no such file")
        return EXIT_BAD_INPUT
    try:
        facts = checks.gather(args.kubeconfig, export)
    except Exception as error:  # the client raises many types; each is "cannot read the cluster"
        consoles.err.print(f"[bold red]error:[/] cannot read the cluster: {escape(str(error).splitlines()[0])}")
        return EXIT_PROGRAM_FAILED
    table = Table("precondition", "", "detail", title=f"preflight of {args.stack}")
    marks = {"ok": "[green]ok[/]", "missing": "[bold red]missing[/]", "warning": "[yellow]warning[/]"}
    results = checks.judge(facts, export)
    for check in results:
        table.add_row(check.item, marks[check.status], escape(check.detail))
    consoles.out.print(table)
    missing = [check for check in results if check.status == "missing"]
    consoles.out.print(f"{len(missing)} missing, {sum(c.status == 'warning' for c in results)} warning(s)")
    return EXIT_FINDINGS if missing else 0


def _positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"{value!r}: expected a whole number of processes, 1 or more")
    return number


def _version() -> str:
    try:
        return metadata.version("stackyard-k8s")
    except metadata.PackageNotFoundError:
        return "(from a source checkout)"


def _check_arguments(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    named = [(name, getattr(args, name, None)) for name in ("stack", "left", "right", "target")]
    named += [("stack", stack) for stack in getattr(args, "stacks", None) or []]
    for name, value in named:
        if value is None or (name != "stack" and is_export_dir(value)):
            continue
        if name != "stack" and ("/" in value or value.startswith(".")):
            parser.error(f"{name} {value!r}: no export there (a folder with 1-manifest/ or index.json)")
        if not _STACK_NAME.match(value):
            parser.error(
                f"{name} {value!r}: a stack name has 1-100 letters, digits, '-', '_' or '.' (or name an export folder)"
            )
    for folder in getattr(args, "chart_dir", None) or []:
        if not Path(folder).is_dir():
            parser.error(
                f"--chart-dir {folder!r}: no such folder (it holds charts as <chart>/ or <chart>-<version>.tgz)"
            )
    version = getattr(args, "kubernetes_version", None)
    if version is not None:
        if not _KUBERNETES_VERSION.match(version):
            parser.error(f"--kubernetes-version {version!r}: expected a version such as 1.36")
        try:
            auditing.check_version(version)
        except ValueError as error:
            parser.error(f"--kubernetes-version: {error}")


def _render(args: argparse.Namespace, consoles: _Consoles) -> int:
    targets = {stack: _render_dir(args.out, stack, several=len(args.stacks) > 1) for stack in args.stacks}
    for out_dir in targets.values():
        check_output_dir(out_dir.resolve())
    exit_code = 0
    for outcome in render_stacks(Path(args.project), targets, processes=args.jobs, charts=_chart_options(args)):
        if outcome.error:
            consoles.err.print(f"[bold red]error:[/] {escape(outcome.stack)}: {escape(outcome.error)}")
            exit_code = max(exit_code, _ERROR_EXIT_CODES[outcome.error_kind])
        else:
            _print_render_summary(consoles, outcome)
    return exit_code


#: How a worker's error maps to the exit code a single render would have given.
_ERROR_EXIT_CODES = {"bad-input": EXIT_BAD_INPUT, "program-failed": EXIT_PROGRAM_FAILED, "crash": EXIT_PROGRAM_FAILED}


def _render_dir(out: str | None, stack: str, *, several: bool) -> Path:
    if out is None:
        return Path("out") / stack
    return Path(out) / stack if several else Path(out)


def _print_render_summary(consoles: _Consoles, outcome: RenderOutcome) -> None:
    _print_count_table(consoles.out, f"{outcome.project}/{outcome.stack}", outcome.counts)
    total = sum(outcome.counts.values())
    consoles.out.print(escape(f"Rendered {total} objects of {outcome.project}/{outcome.stack} to {outcome.out_dir}"))
    if outcome.expanded:
        consoles.out.print(
            escape(
                f"Expanded {outcome.expanded} chart(s) and remote file(s) into their objects, as pulumi up applies "
                "them; each has a record under charts/"
            )
        )
    if outcome.records > outcome.expanded:
        consoles.out.print(
            escape(
                f"Recorded {outcome.records - outcome.expanded} chart(s) and remote file(s) under charts/ without "
                "their objects: this export is not complete (see the warnings, or --charts)"
            )
        )
    for key in outcome.placeholders:
        consoles.out.print(
            escape(f"note: {key} is a secure value that cannot be decrypted offline; a placeholder was used")
        )
    for warning in outcome.warnings:
        consoles.err.print(f"[yellow]warning:[/] {escape(warning)}")


def _preview(args: argparse.Namespace, consoles: _Consoles) -> int:
    rendering = evaluate_stack(Path(args.project), args.stack, charts=_chart_options(args))
    _print_tree(consoles.out, rendering)
    _print_counts(consoles.out, rendering)
    _print_warnings(consoles.err, rendering)
    return 0


def _audit(args: argparse.Namespace, consoles: _Consoles) -> int:
    view = resolve(args.target, Path(args.project), charts=_chart_options(args))
    report = auditing.audit(view, args.kubernetes_version)
    table = Table(title=escape(f"audit of {report.target} (Kubernetes {report.kubernetes_version})"))
    for column in ("policy", "level", "object", "finding", "status"):
        table.add_column(column)
    for finding in report.findings:
        status = f"[yellow]excepted:[/] {escape(finding.exception)}" if finding.exception else "[red]violation[/]"
        table.add_row(
            escape(finding.policy), finding.level, escape(finding.object_ref), escape(finding.message), status
        )
    for error in report.schema_errors:
        table.add_row("kubernetes-schema", "mandatory", escape(error.path), escape(error.message), "[red]invalid[/]")
    consoles.out.print(table)
    violations = sum(finding.counts for finding in report.findings)
    excepted = sum(finding.exception is not None for finding in report.findings)
    consoles.out.print(
        f"{violations} mandatory violation(s), {excepted} documented exception(s), "
        f"{len(report.schema_errors)} schema error(s); {report.checked} object(s) schema-checked "
        f"({report.by_crd} against their CRD in the export), "
        f"{len(report.unchecked)} custom resource(s) judged by the policies only"
    )
    report_path = Path(args.report) if args.report else _default_report(args.target)
    _write_json(report_path, auditing.to_json(report))
    consoles.out.print(escape(f"Report: {report_path}"))
    if args.sarif:
        _write_json(Path(args.sarif), auditing.to_sarif(report))
        consoles.out.print(escape(f"SARIF: {args.sarif}"))
    consoles.out.print("[bold red]audit failed[/]" if report.failed else "[bold green]audit passed[/]")
    return EXIT_FINDINGS if report.failed else 0


def _diff(args: argparse.Namespace, consoles: _Consoles) -> int:
    against = Path(args.against) if args.against else Path("out") / args.stack
    before = from_directory(against)
    after = from_rendering(evaluate_stack(Path(args.project), args.stack, charts=_chart_options(args)))
    result = diff_exports(before, after)
    for path in result.added:
        consoles.out.print(f"[green]added[/]    {escape(path)}")
    for path in result.removed:
        consoles.out.print(f"[red]removed[/]  {escape(path)}")
    for path, changes in result.changed.items():
        consoles.out.print(f"[yellow]changed[/]  {escape(path)}")
        for change in changes:
            consoles.out.print(
                f"    {escape(change.path)}: {escape(_show(change.before))} -> {escape(_show(change.after))}"
            )
    summary = f"{len(result.added)} added, {len(result.removed)} removed, {len(result.changed)} changed"
    consoles.out.print(escape(f"{after.label} against {against}: {summary}"))
    return EXIT_FINDINGS if args.exit_code and not result.empty else 0


def _envdiff(args: argparse.Namespace, consoles: _Consoles) -> int:
    charts = _chart_options(args)
    left = resolve(args.left, Path(args.project), charts=charts)
    right = resolve(args.right, Path(args.project), charts=charts)
    differences = diff_settings(left, right)
    table = Table(title=escape(f"{args.left} vs {args.right}: {len(differences)} setting(s) differ"))
    for column in ("subject", "setting", args.left, args.right):
        table.add_column(escape(column), overflow="fold")
    for item in differences:
        table.add_row(escape(item.subject), escape(item.setting), escape(_show(item.left)), escape(_show(item.right)))
    consoles.out.print(table)
    return 0


def _default_report(target: str) -> Path:
    """``audit/<stack>.json`` for a stack, ``audit/<folder>-export.json`` for an export folder."""
    if is_export_dir(target):
        return Path("audit") / f"{Path(target).resolve().name}-export.json"
    return Path("audit") / f"{target}.json"


def _show(value: Any) -> str:
    if value is None:
        return "(absent)"
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def _write_json(path: Path, document: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def _print_counts(console: Console, rendering: Rendering) -> None:
    _print_count_table(console, f"{rendering.inputs.project}/{rendering.inputs.stack}", dict(rendering.counts()))


def _print_count_table(console: Console, title: str, counts: dict[str, int]) -> None:
    table = Table(title=escape(f"{title}: objects per kind"))
    table.add_column("kind")
    table.add_column("count", justify="right")
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
