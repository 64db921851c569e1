"""The built bundle (dist/Dia Studio/, from installer/build.sh) and a way to run it as a person
would: its own program, a fresh home folder, no Python environment of ours, no network."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.core.audio.conftest import pulse_null_sink  # noqa: F401  (the fixture, for the device test)

REPO = Path(__file__).resolve().parents[2]
BUNDLE = REPO / "dist" / "Dia Studio"
PROGRAM = BUNDLE / ("dia-studio.exe" if sys.platform == "win32" else "dia-studio")
# Where the checkout's own code and the shared environment would leak into the bundled program.
_NOT_PASSED = ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME")


def _snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file and folder under ``folder``: its size and when it was last changed."""
    found = {}
    for path in [folder, *folder.rglob("*")]:
        status = path.lstat()
        found[str(path.relative_to(folder))] = (status.st_size if path.is_file() else 0, status.st_mtime_ns)
    return found


@pytest.fixture(scope="session")
def bundle() -> Iterator[Path]:
    """The bundle's program, with the bundle read-only while the tests run it. Write bits do not
    stop root (CI runs as root), so what the folder holds is also compared before and after: a
    run that wrote, added or deleted anything in it fails the session."""
    if not PROGRAM.is_file():
        pytest.fail(f"no bundle at {BUNDLE}: build it first with installer/build.sh", pytrace=False)
    before = _snapshot(BUNDLE)
    subprocess.run(["chmod", "-R", "a-w", str(BUNDLE)], check=True)
    try:
        yield PROGRAM
    finally:
        subprocess.run(["chmod", "-R", "u+w", str(BUNDLE)], check=True)  # installer/build.sh can replace it
    after = _snapshot(BUNDLE)
    changed = sorted(path for path in before.keys() | after.keys() if before.get(path) != after.get(path))
    assert not changed, f"the bundle wrote inside its own folder: {changed[:20]}"


@pytest.fixture
def home(tmp_path) -> Path:
    """A person's home folder that has never seen Dia Studio."""
    folder = tmp_path / "home"
    folder.mkdir()
    return folder


def first_time_user(home: Path, **environment: str) -> dict[str, str]:
    """The environment of someone whose home folder is ``home``, with no Python setup of ours."""
    env = {name: value for name, value in os.environ.items() if name not in _NOT_PASSED}
    return {**env, "HOME": str(home), "QT_QPA_PLATFORM": "offscreen", "HF_HUB_OFFLINE": "1", **environment}


@pytest.fixture
def run_bundle(bundle, home):
    """Runs the bundle's program with ``arguments`` in ``home``, as a first-time user would."""

    def run(*arguments: str, under: tuple[str, ...] = (), timeout: float = 300,
            **environment: str) -> subprocess.CompletedProcess:
        """``under``: a command that runs the program (xvfb-run …)."""
        return subprocess.run([*under, str(bundle), *arguments], cwd=home, env=first_time_user(home, **environment),
                              capture_output=True, text=True, timeout=timeout)

    return run
