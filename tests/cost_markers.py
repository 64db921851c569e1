"""Each test marked by what it costs, found by reading it: the markers ``process`` (a model in a
process of its own), ``server`` (a ``dia-studio serve`` or another server process), ``ray`` (a Ray
cluster), ``sound`` (the PulseAudio server) and ``subprocess`` (a Python or the app run as a
command). ``tests/run.sh --fast`` leaves these out; ``worker_group`` keeps what shares a fixture on one
worker of a parallel run.

What a test starts is read from the code it runs: its own body, its fixtures', and the helpers
of the test suite those call (names, not text, so a fixture merely named in a string does not
count). A window test parametrized over the engines is marked by the engine it runs on.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
from types import FunctionType

COSTS = ("process", "server", "ray", "sound", "subprocess")

# Names whose use means the cost: a fixture, a helper of the suite, or a module's attribute.
_COST_OF_NAME = {
    "remote_engine_server": "server", "engine_server": "server", "ServerProcess": "server",
    "ray_address": "ray", "cluster_server": "ray", "cluster_server_process": "ray",
    "pulse_null_sink": "sound", "sound_system": "sound", "SoundDeviceBackend": "sound",
    "OwnProcessEngine": "process", "OWN_PROCESS": "process",
    "subprocess": "subprocess", "Popen": "subprocess", "executable": "subprocess",
}
# A test parametrized over the engines (an EngineKind or its name as a parameter): the engine it runs on.
_COST_OF_ENGINE = {"own-process": "process", "remote": "server"}
_DEPTH = 4  # helpers calling helpers: deep enough for the suite's, bounded for speed


def costs_of(item) -> set[str]:
    """The cost markers ``item`` (a collected test function) deserves."""
    found: set[str] = set()
    if "/tests/cluster/" in str(item.path):
        found.add("ray")
    for value in getattr(getattr(item, "callspec", None), "params", {}).values():
        engine = getattr(value, "value", value)  # an EngineKind, or its name
        if isinstance(engine, str) and engine in _COST_OF_ENGINE:
            found.add(_COST_OF_ENGINE[engine])
    seen: set[object] = set()
    sources = [item.function]
    for name in item.fixturenames:
        found |= {_COST_OF_NAME[name]} if name in _COST_OF_NAME else set()
        for definition in item._fixtureinfo.name2fixturedefs.get(name, ()):
            sources.append(definition.func)
    for function in sources:
        found |= _costs_in(function, seen, _DEPTH)
    return found


def _costs_in(code: object, seen: set[object], depth: int) -> set[str]:
    if depth == 0 or code in seen or not _of_the_suite(code):
        return set()
    seen.add(code)
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(code)))
    except (OSError, TypeError, SyntaxError):
        return set()
    found = set()
    names = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    names |= {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
    names |= {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))
              for alias in node.names}
    names |= {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    found |= {_COST_OF_NAME[name] for name in names if name in _COST_OF_NAME}
    module_globals = getattr(inspect.unwrap(code), "__globals__", None) or vars(inspect.getmodule(code) or object)
    for name in names:
        helper = module_globals.get(name) if isinstance(module_globals, dict) else None
        if isinstance(helper, (FunctionType, type)):
            found |= _costs_in(helper, seen, depth - 1)
    return found


def _of_the_suite(code: object) -> bool:
    """Only the test suite's own code is read: what the product does is not a test's cost."""
    module = getattr(inspect.getmodule(code), "__name__", "")
    return module == "tests" or module.startswith("tests.") or module.startswith("test_")


def worker_group(item, costs: set[str]) -> str:
    """The tests a worker of ``pytest -n`` runs together (``--dist loadgroup``): a file's tests
    share its fixtures (a server, a model process), so they stay together; every test of Ray, and
    every test of the sound server, shares the one that a run starts."""
    for shared in ("ray", "sound"):
        if shared in costs:
            return shared
    return str(item.path)
