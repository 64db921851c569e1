"""Write the locks of installer/locks/ from pyproject.toml with uv (installer/lock.sh runs this in the
environment of its own lock, requirements-lock-tool.txt).

    installer/lock.sh                      lock what pyproject.toml asks for that a lock lacks; keep every other pin
    installer/lock.sh --upgrade            every package to its newest release inside pyproject.toml's ranges
    installer/lock.sh --upgrade-package X  only X (and what it needs)

The test environment on Linux x86-64 with the processor build is locked first: it is what CI tests.
Every other lock takes its versions wherever they share a package (tested-versions.txt), so a
bundle or an install on another system holds what was tested. Torch builds from PyTorch's own index
are read from it (DIA_TORCH_WHEELS=DIR takes them from a folder of wheels instead, on a machine that
cannot reach it); a target whose torch cannot be found keeps the lock it had, and the run says so.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from lockfiles import ENVIRONMENTS, LOCKS, PYPROJECT, PYTHON, REFERENCE, ROOT, TARGETS, lock_path, read_lock  # noqa: E402

TESTED_VERSIONS = LOCKS / "tested-versions.txt"
OVERRIDES = LOCKS / "overrides.txt"  # requirements of packages whose code is never imported, left out
COMMAND = "installer/lock.sh"


def torch_pin() -> str:
    """The torch release pyproject.toml pins (the locks add the build's label: 2.13.0+cpu)."""
    for requirement in tomllib.loads(PYPROJECT.read_text())["project"]["dependencies"]:
        match = re.fullmatch(r"torch==([\w.]+)", requirement.replace(" ", ""))
        if match:
            return match[1]
    raise SystemExit("update_locks: pyproject.toml must pin torch exactly (torch==X.Y.Z): its builds differ by system")


def compile_lock(environment: str, target: str | None, upgrade: list[str]) -> bool:
    """One `uv pip compile`; False when it could not be resolved (what uv said is printed)."""
    spec = ENVIRONMENTS[environment]
    output = lock_path(environment, target)
    command = [sys.executable, "-m", "uv", "pip", "compile", "--quiet", "--generate-hashes", "--python-version", PYTHON,
               "--custom-compile-command", COMMAND, "--output-file", str(output.relative_to(ROOT)), *upgrade]
    # Requirements beside pyproject.toml's come on standard input (`-`), which leaves no temporary
    # path in the lock's annotations.
    more = []
    if spec.project:
        # The project is installed without build isolation (no network at set-up), so its build
        # backend is locked with it.
        more += tomllib.loads(PYPROJECT.read_text())["build-system"]["requires"]
        command += ["pyproject.toml", "-"]
        command += [arg for extra in spec.extras for arg in ("--extra", extra)]
        command += [arg for group in spec.groups for arg in ("--group", group)]
        command += ["--override", str(OVERRIDES.relative_to(ROOT))]
    else:
        command += [arg for group in spec.groups for arg in ("--group", f"pyproject.toml:{group}")]
    if target is None:
        command.append("--universal")
    else:
        platform = TARGETS[target]
        command += ["--python-platform", platform.uv_platform]
        if platform.torch == "cpu":
            # Whisper asks for triton on Linux x86-64, but runs its kernels only on CUDA tensors:
            # with the processor build it is 1 GB never loaded, in every environment and the bundle.
            command += ["--no-emit-package", "triton"]
        if spec.project and platform.torch_index:
            more.append(f"torch=={torch_pin()}+{platform.torch}")  # the build, by its label
            wheels = os.environ.get("DIA_TORCH_WHEELS") or f"https://download.pytorch.org/whl/{platform.torch_index}/torch/"
            command += ["--find-links", wheels]
    if spec.project and (environment, target) != REFERENCE:
        command += ["--constraint", str(TESTED_VERSIONS.relative_to(ROOT))]
    # torch's macOS wheels are for macOS 14 and later (uv assumes an older macOS otherwise).
    environ = {**os.environ, "MACOSX_DEPLOYMENT_TARGET": "14.0"}
    print(f"update_locks: {output.relative_to(ROOT)}", file=sys.stderr, flush=True)
    return subprocess.run(command, cwd=ROOT, env=environ, input="".join(f"{line}\n" for line in more), text=True).returncode == 0


def write_tested_versions() -> None:
    """The reference lock's versions as constraints, without build labels (torch 2.13.0+cpu and
    PyPI's 2.13.0 are the same release), for every other lock of the project."""
    pins = read_lock(lock_path(*REFERENCE))
    lines = [f"{pin.name}=={pin.version.split('+')[0]}" for pin in pins]
    TESTED_VERSIONS.write_text(
        f"# The versions of {lock_path(*REFERENCE).name}, which CI tests: every other lock of the\n"
        f"# project agrees with them where they share a package. Written by {COMMAND}.\n" + "\n".join(lines) + "\n")


def main() -> int:
    parser = argparse.ArgumentParser(prog=COMMAND, description=__doc__.split("\n\n")[0])
    parser.add_argument("--upgrade", action="store_true", help="newest releases inside pyproject.toml's ranges")
    parser.add_argument("--upgrade-package", action="append", default=[], metavar="NAME")
    args = parser.parse_args()
    upgrade = (["--upgrade"] if args.upgrade else []) + [f"--upgrade-package={name}" for name in args.upgrade_package]
    LOCKS.mkdir(exist_ok=True)
    missing = []
    if not compile_lock(*REFERENCE, upgrade):
        print(f"update_locks: the tested environment ({lock_path(*REFERENCE).name}) could not be locked", file=sys.stderr)
        return 1
    write_tested_versions()
    for name, spec in ENVIRONMENTS.items():
        for target in spec.targets or (None,):
            if (name, target) != REFERENCE and not compile_lock(name, target, upgrade):
                missing.append(lock_path(name, target).name)
    if missing:
        print("update_locks: not written (kept as they were, if they were there): " + ", ".join(missing), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
