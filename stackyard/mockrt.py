"""The one place that touches the Pulumi SDK's mock runtime and its internals.

The offline render runs the real program under ``pulumi.runtime.set_mocks``. Some of what we need
(waiting for outstanding RPCs, the parent URN of a registration) is not public API, so every such
touch lives here: an SDK upgrade should only ever need this module changed.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pulumi
from google.protobuf import struct_pb2
from pulumi.runtime import mocks as sdk_mocks
from pulumi.runtime import resource as sdk_resource
from pulumi.runtime import rpc
from pulumi.runtime import settings as sdk_settings
from pulumi.runtime import stack as sdk_stack
from pulumi.runtime import sync_await as sdk_sync_await
from pulumi.runtime.proto import resource_pb2, source_pb2
from pulumi.runtime.sync_await import _sync_await

from . import speed

__all__ = [
    "ROOT_STACK_TYPE",
    "SECRET_SIG_KEY",
    "SECRET_SIG_VALUE",
    "ProgramRun",
    "Registration",
    "evaluate",
    "unwrap_secret",
    "without_source_positions",
]

ROOT_STACK_TYPE = "pulumi:pulumi:Stack"

#: Where the CLI's language host hands a program its config and which of its keys are secrets.
_CONFIG_ENV = "PULUMI_CONFIG"
_SECRET_KEYS_ENV = "PULUMI_CONFIG_SECRET_KEYS"

#: The key/value pair the SDK uses to mark a value as secret on the wire.
SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG_VALUE = "1b47061264138c4ac30d75fd1eb44270"


@dataclass(frozen=True)
class Registration:
    """One resource the program registered, as the engine would have seen it."""

    urn: str
    parent_urn: str
    type: str
    name: str
    custom: bool
    inputs: dict[str, Any]
    provider: str = ""
    """The provider reference (``<provider urn>::<id>``), empty for the default provider."""
    dependencies: tuple[str, ...] = ()
    """URNs this resource waits for: explicit ``depends_on`` plus those its inputs came from."""


@dataclass
class ProgramRun:
    """Everything one evaluation of a program produced."""

    registrations: list[Registration] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


class _RecordingMocks(pulumi.runtime.Mocks):
    """Echoes inputs back as outputs: render mode computes nothing either."""

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        return args.name, dict(args.inputs)

    def call(
        self,
        args: pulumi.runtime.MockCallArgs,  # noqa: ARG002 - the interface's signature
    ) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        return {}, None


class _RecordingMonitor(sdk_mocks.MockMonitor):
    """A mock monitor that keeps the parent URN, which the public registration drops, and builds
    URNs as the engine does."""

    def __init__(self, run: ProgramRun) -> None:
        super().__init__(_RecordingMocks())
        self._run = run

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        # The SDK's mock keeps only the parent's own type and adds the root stack's; the engine
        # qualifies a type with every ancestor's but the stack's. Aliases and the URN contract
        # are about the engine's form, so that is the one recorded.
        if parent:
            qualified = parent.split("::")[2]
            if qualified != ROOT_STACK_TYPE:
                type_ = f"{qualified}${type_}"
        return "urn:pulumi:" + "::".join([sdk_settings.get_stack(), sdk_settings.get_project(), type_, name])

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 - the gRPC method name
        # The SDK's mock serializes the state back and the SDK then deserializes it as outputs. Render
        # mode computes nothing, so no outputs are returned: the SDK then resolves every output from
        # the inputs it sent, which is the same result for about half the work per resource.
        urn = self.make_urn(request.parent, request.type, request.name)
        if request.type == ROOT_STACK_TYPE:
            return resource_pb2.RegisterResourceResponse(urn=urn)
        sdk_sync_await._ensure_event_loop()  # type: ignore[no-untyped-call]  # references need a loop
        inputs = rpc.deserialize_properties(request.object)
        self.resources[urn] = sdk_mocks.MockMonitor.ResourceRegistration(urn, request.name, inputs)
        self._run.registrations.append(
            Registration(
                urn=urn,
                parent_urn=request.parent,
                type=request.type,
                name=request.name,
                custom=bool(request.custom),
                inputs=inputs,
                provider=request.provider,
                dependencies=tuple(sorted(request.dependencies)),
            )
        )
        return resource_pb2.RegisterResourceResponse(urn=urn, id=request.name, object=struct_pb2.Struct())


class _CollectingHandler(logging.Handler):
    """Collects what the program logs through ``pulumi.log`` (the mock engine's logger)."""

    def __init__(self, run: ProgramRun) -> None:
        super().__init__(level=logging.WARNING)
        self._run = run

    def emit(self, record: logging.LogRecord) -> None:
        target = self._run.errors if record.levelno >= logging.ERROR else self._run.warnings
        target.append(record.getMessage())


def evaluate(
    program: Callable[[], object],
    *,
    project: str,
    stack: str,
    config: dict[str, str],
    secret_keys: list[str],
) -> ProgramRun:
    """Run ``program`` as stack ``project/stack`` with ``config`` and return what it registered.

    ``config`` maps fully qualified keys (``project:key``) to strings, structured values as JSON,
    exactly as the CLI hands them to a program. Exceptions raised by the program, synchronously or
    inside an RPC, propagate to the caller.
    """
    run = ProgramRun()
    logger = logging.getLogger(f"stackyard.program.{project}.{stack}")
    logger.propagate = False
    logger.handlers = [_CollectingHandler(run)]
    pulumi.runtime.set_all_config({k: config[k] for k in sorted(config)}, secret_keys=list(secret_keys))
    sdk_settings.reset_options(project=project, stack=stack)
    pulumi.runtime.set_mocks(
        _RecordingMocks(),
        project=project,
        stack=stack,
        preview=False,
        logger=logger,
        monitor=_RecordingMonitor(run),
    )
    # The speed-ups (this module's source-position patch, a paused collector) are speed's decision.
    with _cli_environment(config, secret_keys), speed.program_run(without_source_positions):
        try:
            program()
        finally:
            # Even a failed program may have queued registrations; drain them so the next run starts clean.
            _sync_await(sdk_stack.wait_for_rpcs())
    return run


@contextmanager
def _cli_environment(config: dict[str, str], secret_keys: list[str]) -> Iterator[None]:
    """Hand the program its config in the environment, as the Pulumi CLI's language host does.

    The SDK lists config keys only through that environment (``pulumi.runtime.get_config_env`` and
    ``get_config_secret_keys_env``), so a program that reads its whole config, as the stacks do,
    needs it here too; the previous values come back when the run ends.
    """
    saved = {name: os.environ.get(name) for name in (_CONFIG_ENV, _SECRET_KEYS_ENV)}
    os.environ[_CONFIG_ENV] = json.dumps({key: config[key] for key in sorted(config)})
    os.environ[_SECRET_KEYS_ENV] = json.dumps(sorted(secret_keys))
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextmanager
def without_source_positions() -> Iterator[None]:
    """Skip the stack trace the SDK captures for every resource while the block runs.

    The trace only feeds the engine's diagnostics (where in the program a resource was made);
    capturing it costs about a quarter of each registration, and nothing reads it offline.
    Whether it is skipped is :mod:`stackyard.speed`'s decision (``STACKYARD_NO_SPEEDUPS=1`` keeps it).
    """
    original = sdk_resource._get_stack_trace
    sdk_resource._get_stack_trace = _empty_stack_trace
    try:
        yield
    finally:
        sdk_resource._get_stack_trace = original


def _empty_stack_trace() -> source_pb2.StackTrace:
    return source_pb2.StackTrace()


def unwrap_secret(value: Any) -> tuple[bool, Any]:
    """Return ``(True, inner)`` for a value the runtime marked secret, else ``(False, value)``."""
    if isinstance(value, dict) and value.get(SECRET_SIG_KEY) == SECRET_SIG_VALUE:
        return True, value.get("value")
    return False, value
