"""The locks: the exact packages, with their hashes, that each environment of the project installs,
for each system and build of torch (installer/locks/). installer/lock.sh writes them with uv;
installer/setup.sh, installer/build.sh and tests/run.sh install exactly them with pip (hashes
required) and check what is installed against them.

    python3 installer/lockfiles.py path ENV               the lock this machine installs for ENV
    python3 installer/lockfiles.py sync FOLDER ENV        install it into a virtual environment
    python3 installer/lockfiles.py sync FOLDER ENV --into-folder   ... or a plain folder (pip --target)
    python3 installer/lockfiles.py current FOLDER ENV     exit 0 when FOLDER holds ENV as locked now
    python3 installer/lockfiles.py to-hold FOLDER ENV     what a set-up of ENV syncs FOLDER to (a covering one it holds)
    FOLDER/bin/python installer/lockfiles.py check FOLDER ENV      installed == locked, or one line per difference

DIA_TORCH picks the build of torch (cpu, the default, or cu130); DIA_TORCH_INDEX where PyTorch's own
builds come from when pip's usual sources lack them. The system's Python runs this before any
environment exists: the standard library only, but for `check` (it runs in the environment itself).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCKS = ROOT / "installer" / "locks"
PYPROJECT = ROOT / "pyproject.toml"
# The Python every lock is resolved for: the installers' and the bundle's.
PYTHON = "3.11"
STAMP = "dia-studio-lock.json"  # in a synced folder: which lock it holds (see `current`)
# pip installs the locks and is not in them; the project itself is installed from the checkout.
NOT_LOCKED = {"pip", "dia-studio"}


@dataclass(frozen=True)
class Target:
    """A system, a processor and a build of torch that the locks are made for."""

    name: str
    system: str  # platform.system()
    machines: tuple[str, ...]  # what platform.machine() says there
    torch: str  # DIA_TORCH
    uv_platform: str  # uv's --python-platform
    torch_index: str | None  # PyTorch's index the torch build comes from; None: PyPI has it
    environment: dict[str, str]  # PEP 508 marker values, for checking a lock against pyproject.toml


def _linux(machine: str, torch: str, torch_index: str | None) -> Target:
    # The oldest glibc PySide6 6.10+ has wheels for: 2.34 on x86-64 (Debian 12, Ubuntu 22.04, RHEL 9),
    # 2.39 on ARM (Debian 13, Ubuntu 24.04).
    glibc = "2_34" if machine == "x86_64" else "2_39"
    return Target(f"linux-{machine}-{torch}", "Linux", (machine,) if machine == "x86_64" else (machine, "arm64"),
                  torch, f"{machine}-manylinux_{glibc}", torch_index,
                  {"sys_platform": "linux", "platform_system": "Linux", "os_name": "posix",
                   "platform_machine": machine})


# On Linux, PyPI's torch is the CUDA 13.0 build and the processor build comes from PyTorch's index;
# on Windows it is the other way round; macOS has one build (Metal included).
TARGETS = {target.name: target for target in (
    _linux("x86_64", "cpu", "cpu"),
    _linux("x86_64", "cu130", None),
    _linux("aarch64", "cpu", "cpu"),
    _linux("aarch64", "cu130", None),
    Target("macos-arm64-cpu", "Darwin", ("arm64",), "cpu", "aarch64-apple-darwin", None,
           {"sys_platform": "darwin", "platform_system": "Darwin", "os_name": "posix", "platform_machine": "arm64"}),
    Target("windows-x86_64-cpu", "Windows", ("AMD64", "x86_64"), "cpu", "x86_64-pc-windows-msvc", None,
           {"sys_platform": "win32", "platform_system": "Windows", "os_name": "nt", "platform_machine": "AMD64"}),
    Target("windows-x86_64-cu130", "Windows", ("AMD64", "x86_64"), "cu130", "x86_64-pc-windows-msvc", "cu130",
           {"sys_platform": "win32", "platform_system": "Windows", "os_name": "nt", "platform_machine": "AMD64"}),
)}


@dataclass(frozen=True)
class Environment:
    """Something the project installs: what goes in (from pyproject.toml) and for which targets."""

    name: str
    project: bool  # the project's dependencies, and the project itself (editable) once they are in
    extras: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    targets: tuple[str, ...] = ()  # none: one lock for every system (no torch in it)
    covers: tuple[str, ...] = ()  # environments this one holds whole, as locked (for `current`)


ENVIRONMENTS = {environment.name: environment for environment in (
    Environment("app", project=True, targets=tuple(TARGETS)),
    Environment("test", project=True, extras=("test", "cluster"),
                targets=("linux-x86_64-cpu", "linux-x86_64-cu130"), covers=("app", "cluster")),
    Environment("cluster", project=True, extras=("cluster",),
                targets=("linux-x86_64-cpu", "linux-x86_64-cu130", "linux-aarch64-cu130"), covers=("app",)),
    Environment("bundle", project=True, groups=("bundle",), targets=tuple(TARGETS)),
    Environment("runware-sdk", project=False, groups=("runware-sdk",)),
    Environment("runware", project=False, groups=("runware",)),
    Environment("lock-tool", project=False, groups=("lock-tool",)),
)}
# The environment the tests run in, on the machine CI runs on: every other lock takes its versions
# where they share a package (installer/locks/tested-versions.txt), so what ships is what was tested.
REFERENCE = ("test", "linux-x86_64-cpu")


class LockError(Exception):
    """Something the person installing must act on, said in one line."""


def shown(path: Path) -> str:
    """A path as the person at the checkout's root types it."""
    return os.path.relpath(path, ROOT)


def lock_path(environment: str, target: str | None) -> Path:
    return LOCKS / (f"requirements-{environment}-{target}.txt" if target else f"requirements-{environment}.txt")


def this_target(torch: str | None = None) -> Target:
    """The target of this machine and the torch build asked for (DIA_TORCH, default cpu)."""
    torch = torch or os.environ.get("DIA_TORCH") or "cpu"
    system, machine = platform.system(), platform.machine()
    if system.startswith(("MINGW", "MSYS", "CYGWIN")):  # Git Bash's Python names the system so
        system = "Windows"
    builds = [target for target in TARGETS.values() if target.system == system and machine in target.machines]
    if not builds:
        raise LockError(f"no lock for {system} on {machine}: the locks are for {', '.join(TARGETS)}")
    for target in builds:
        if target.torch == torch:
            return target
    raise LockError(f"DIA_TORCH={torch} is not a build of torch for {system} on {machine}: "
                    f"choose {' or '.join(target.torch for target in builds)}")


def lock_for(environment: str) -> tuple[Path, Target | None]:
    """The lock file this machine installs for an environment; a clear error when there is none."""
    if environment not in ENVIRONMENTS:
        raise LockError(f"unknown environment {environment!r}: one of {', '.join(ENVIRONMENTS)}")
    spec = ENVIRONMENTS[environment]
    target = this_target() if spec.targets else None
    if target and target.name not in spec.targets:
        raise LockError(f"the {environment} environment is locked only for {', '.join(spec.targets)}, "
                        f"not for {target.name}")
    path = lock_path(environment, target.name if target else None)
    if not path.is_file():
        raise LockError(f"no lock for {environment} on {target.name if target else 'this system'} "
                        f"({shown(path)}): its torch comes from PyTorch's index, which the machine "
                        "that last ran installer/lock.sh could not reach; run installer/lock.sh where it can")
    return path, target


def check_python(python: str) -> None:
    """The locks are resolved for one Python: say so before pip fails on a wheel it cannot use."""
    version = subprocess.run([python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    if version != PYTHON:
        raise LockError(f"{python} is Python {version}; the locks are made for Python {PYTHON}: "
                        f"install it and run with PYTHON=python{PYTHON}")


# --- what a lock holds ------------------------------------------------------------------------

def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass(frozen=True)
class Pin:
    name: str  # canonical
    version: str
    marker: str | None  # only in locks made for every system
    via: tuple[str, ...]  # uv's annotation: what asked for it


_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;\\]+)\s*(?:;\s*([^\\]+?))?\s*\\?$")


def read_lock(path: Path) -> list[Pin]:
    """The pins of a lock written by uv (requirements format, with hashes and `# via` lines)."""
    pins: list[Pin] = []
    current: dict | None = None
    for line in path.read_text(encoding="utf-8").splitlines():
        match = _PIN.match(line)
        if match:
            if current:
                pins.append(Pin(**current))
            current = {"name": canonical(match[1]), "version": match[2], "marker": match[3], "via": ()}
        elif current and line.startswith("    # via"):
            rest = line.removeprefix("    # via").strip()
            if rest:
                current["via"] = (rest,)
        elif current and line.startswith("    #   "):
            current["via"] = (*current["via"], line.removeprefix("    #   ").strip())
    if current:
        pins.append(Pin(**current))
    return pins


def applicable(pins: list[Pin], environment: dict[str, str] | None = None) -> dict[str, str]:
    """name → version of the pins whose markers hold here (or in a target's environment)."""
    from packaging.markers import Marker  # only where markers occur: in the environment itself

    chosen = {}
    for pin in pins:
        if pin.marker is None or Marker(pin.marker).evaluate(environment):
            chosen[pin.name] = pin.version
    return chosen


def root_requirements(environment: str, pyproject: dict) -> list[str]:
    """What pyproject.toml asks for in an environment (the lock's roots), as requirement strings."""
    spec = ENVIRONMENTS[environment]
    roots = []
    if spec.project:
        roots += pyproject["project"]["dependencies"] + pyproject["build-system"]["requires"]
        roots += [r for extra in spec.extras for r in pyproject["project"]["optional-dependencies"][extra]]
    roots += [r for group in spec.groups for r in pyproject.get("dependency-groups", {}).get(group, [])]
    return roots


def disagreements(environment: str, target: str | None, pyproject: dict) -> list[str]:
    """How a lock and pyproject.toml disagree: a requirement the lock lacks or pins outside its range,
    or a pin made for pyproject.toml that it no longer asks for. Empty when they agree."""
    from packaging.requirements import Requirement

    pins = read_lock(lock_path(environment, target))
    by_name: dict[str, list[Pin]] = {}
    for pin in pins:
        by_name.setdefault(pin.name, []).append(pin)
    marker_environment = None
    if target:
        marker_environment = {"python_version": PYTHON, "python_full_version": f"{PYTHON}.0",
                              "implementation_name": "cpython", "platform_python_implementation": "CPython",
                              **TARGETS[target].environment}
    found, asked = [], set()
    for line in root_requirements(environment, pyproject):
        requirement = Requirement(line)
        if marker_environment and requirement.marker and not requirement.marker.evaluate(marker_environment):
            continue
        name = canonical(requirement.name)
        asked.add(name)
        versions = [pin.version for pin in by_name.get(name, [])]
        if not versions:
            found.append(f"{line} is not in the lock")
        elif not any(requirement.specifier.contains(version, prereleases=True) for version in versions):
            found.append(f"{line} but the lock pins {', '.join(versions)}")
    for pin in pins:
        if any(via.startswith("dia-studio (pyproject.toml") for via in pin.via) and pin.name not in asked:
            found.append(f"{pin.name}=={pin.version} is locked for pyproject.toml, which no longer asks for it")
    return found


# --- installing and checking ------------------------------------------------------------------

def _digest(lock: Path) -> str:
    """What a synced folder must match to be current: the lock and the project's metadata."""
    digest = hashlib.sha256(lock.read_bytes())
    digest.update(PYPROJECT.read_bytes())
    return digest.hexdigest()


def _stamp_path(folder: Path) -> Path:
    return folder / STAMP


def current(folder: Path, environment: str) -> bool:
    """Whether the folder holds this environment (or one covering it) exactly as locked now."""
    try:
        stamp = json.loads(_stamp_path(folder).read_text())
    except (OSError, ValueError):
        return False
    for name in (environment, *(e.name for e in ENVIRONMENTS.values() if environment in e.covers)):
        try:
            path, _ = lock_for(name)
        except LockError:
            continue
        if stamp == {"environment": name, "digest": _digest(path)}:
            return True
    return False


def to_hold(folder: Path, environment: str) -> str:
    """What a set-up asked for ``environment`` makes the folder hold: the environment it holds when
    that one covers the one asked for (a checkout set up for the tests keeps its test tools when
    the studio starts after a new lock), else the one asked for."""
    try:
        held = json.loads(_stamp_path(folder).read_text())["environment"]
    except (OSError, ValueError, KeyError, TypeError):
        return environment
    return held if held in ENVIRONMENTS and environment in ENVIRONMENTS[held].covers else environment


def _python_of(folder: Path) -> Path:
    for candidate in (folder / "bin" / "python", folder / "Scripts" / "python.exe"):
        if candidate.exists():
            return candidate
    raise LockError(f"{folder} is not a virtual environment")


def _pip(python: Path | str, *args: str, quiet: bool = False) -> subprocess.CompletedProcess:
    return subprocess.run([str(python), "-m", "pip", *args], cwd=ROOT, text=True,
                          capture_output=quiet, check=False)


def sync(folder: Path, environment: str, into_folder: bool = False, python: str = sys.executable) -> None:
    """Make the folder hold exactly the environment's lock: install it (hashes required), remove what
    the lock does not hold, install the project itself (editable, no network), check, and stamp."""
    lock, target = lock_for(environment)
    if into_folder:
        # A plain folder put on a path (pip --target): started afresh, pip cannot remove from it.
        shutil.rmtree(folder, ignore_errors=True)
        installer, target_args = python, ["--target", str(folder)]
    else:
        if target:
            check_python(python)
        if not (folder / "pyvenv.cfg").exists():
            subprocess.run([python, "-m", "venv", str(folder)], check=True)
        installer, target_args = _python_of(folder), []
    _stamp_path(folder).unlink(missing_ok=True)
    install = ["install", "--quiet", "--require-hashes", "--no-deps", *target_args, "-r", str(lock)]
    # pip's own sources first (PyPI, or what this machine's pip is set up with: a mirror, a folder of
    # wheels); PyTorch's index only when they lack its torch build, since asking an index that cannot
    # be reached costs seconds for every package.
    first = _pip(installer, *install, quiet=bool(target and target.torch_index))
    if first.returncode != 0:
        torch_not_found = "No matching distribution found for torch==" in (first.stderr or "")
        if not (target and target.torch_index and torch_not_found):
            print(first.stderr or "", end="", file=sys.stderr)  # shown now, when it was held back
            raise LockError(f"pip could not install {shown(lock)} (its message is above)")
        index = os.environ.get("DIA_TORCH_INDEX") or f"https://download.pytorch.org/whl/{target.torch_index}"
        print(f"lockfiles: torch's {target.torch} build is not on pip's usual sources; asking {index} too",
              file=sys.stderr)
        if _pip(installer, *install, "--extra-index-url", index).returncode != 0:
            raise LockError(f"pip could not install {shown(lock)} (its message is above)")
    if not into_folder:
        extra = sorted(set(_installed(_site_packages(folder))) - set(_locked_here(lock)) - NOT_LOCKED)
        if extra:
            _pip(installer, "uninstall", "--quiet", "--yes", *extra)
        if ENVIRONMENTS[environment].project:
            # The build backend comes from the lock (setuptools), so this needs no network.
            if _pip(installer, "install", "--quiet", "--no-deps", "--no-build-isolation", "-e", str(ROOT)).returncode:
                raise LockError("pip could not install the project itself (its message is above)")
    differences = differences_from_lock(folder, environment)
    if differences:
        raise LockError(f"{folder} differs from {shown(lock)}: " + "; ".join(differences))
    _stamp_path(folder).write_text(json.dumps({"environment": environment, "digest": _digest(lock)}) + "\n")


def _site_packages(folder: Path) -> Path:
    if (folder / "pyvenv.cfg").exists():
        found = sorted(folder.glob("lib/python*/site-packages")) + sorted(folder.glob("Lib/site-packages"))
        if not found:
            raise LockError(f"{folder} has no site-packages")
        return found[0]
    return folder


def _installed(site_packages: Path) -> dict[str, str]:
    """name → version of the distributions installed in one folder (their .dist-info metadata)."""
    found = {}
    for info in site_packages.glob("*.dist-info"):
        metadata = info / "METADATA"
        if not metadata.is_file():
            continue
        fields = {}
        for line in metadata.read_text(encoding="utf-8", errors="replace").splitlines():
            if not line:
                break
            key, _, value = line.partition(": ")
            fields.setdefault(key, value)
        if "Name" in fields:
            found[canonical(fields["Name"])] = fields.get("Version", "")
    return found


def _locked_here(lock: Path) -> dict[str, str]:
    pins = read_lock(lock)
    if all(pin.marker is None for pin in pins):  # a lock for one target: no markers to evaluate
        return {pin.name: pin.version for pin in pins}
    return applicable(pins)


def differences_from_lock(folder: Path, environment: str) -> list[str]:
    """How what is installed in the folder differs from this machine's lock of the environment."""
    locked = _locked_here(lock_for(environment)[0])
    installed = _installed(_site_packages(folder))
    differences = []
    for name, version in sorted(locked.items()):
        if name not in installed:
            differences.append(f"{name}=={version} is locked but not installed")
        elif installed[name] != version:
            differences.append(f"{name} is {installed[name]}, locked {version}")
    for name in sorted(set(installed) - set(locked) - NOT_LOCKED):
        differences.append(f"{name}=={installed[name]} is installed but not locked")
    if ENVIRONMENTS[environment].project and "dia-studio" not in installed:
        differences.append("the project itself (dia-studio) is not installed")
    return differences


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="installer/lockfiles.py", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("path").add_argument("environment")
    for name in ("sync", "current", "check", "to-hold"):
        command = commands.add_parser(name)
        command.add_argument("folder", type=Path)
        command.add_argument("environment")
        if name == "sync":
            command.add_argument("--into-folder", action="store_true")
    args = parser.parse_args(argv)
    try:
        if args.command == "path":
            print(shown(lock_for(args.environment)[0]))
        elif args.command == "current":
            return 0 if current(args.folder, args.environment) else 1
        elif args.command == "to-hold":
            print(to_hold(args.folder, args.environment))
        elif args.command == "sync":
            sync(args.folder, args.environment, args.into_folder)
        else:
            differences = differences_from_lock(args.folder, args.environment)
            lock = shown(lock_for(args.environment)[0])
            if differences:
                print(f"what is installed in {args.folder} is not {lock} (installer/setup.sh installs it): "
                      + "; ".join(differences), file=sys.stderr)
                return 1
            print(f"{args.folder} holds exactly {lock}")
    except LockError as error:
        print(f"lockfiles: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
