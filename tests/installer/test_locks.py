"""The locks (installer/locks/): they agree with pyproject.toml, with each other and with what is
installed, and a set-up checkout starts without a network."""

import platform
import shutil
import subprocess
import tomllib

import pytest

from installer import lockfiles
from installer.lockfiles import ENVIRONMENTS, REFERENCE, ROOT, TARGETS, LockError

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def every_lock():
    for name, spec in ENVIRONMENTS.items():
        for target in spec.targets or (None,):
            if lockfiles.lock_path(name, target).is_file():
                yield name, target


def test_every_lock_that_pypi_can_make_is_there():
    for name, spec in ENVIRONMENTS.items():
        for target in spec.targets or (None,):
            # Torch builds from PyTorch's own index are locked where it can be reached (not here).
            if target is None or TARGETS[target].torch_index is None or (name, target) == REFERENCE:
                assert lockfiles.lock_path(name, target).is_file(), (name, target)


@pytest.mark.parametrize(("environment", "target"), list(every_lock()))
def test_each_lock_agrees_with_pyproject(environment, target):
    assert lockfiles.disagreements(environment, target, PYPROJECT) == []


def test_a_dependency_added_to_pyproject_without_locking_it_is_found():
    changed = tomllib.loads((ROOT / "pyproject.toml").read_text())
    changed["project"]["dependencies"].append("polars>=1")
    changed["project"]["optional-dependencies"]["test"].append("pytest-randomly>=3")
    assert lockfiles.disagreements("app", "linux-x86_64-cpu", changed) == ["polars>=1 is not in the lock"]
    assert lockfiles.disagreements("test", "linux-x86_64-cpu", changed) == [
        "polars>=1 is not in the lock", "pytest-randomly>=3 is not in the lock"]


def test_a_range_the_lock_is_outside_of_and_a_dependency_dropped_are_found():
    changed = tomllib.loads((ROOT / "pyproject.toml").read_text())
    dependencies = changed["project"]["dependencies"]
    dependencies[dependencies.index("fastapi==0.165.0")] = "fastapi==0.160.0"
    dependencies.remove("soxr>=0.5")
    found = lockfiles.disagreements("app", "macos-arm64-cpu", changed)
    assert found[0] == "fastapi==0.160.0 but the lock pins 0.165.0"
    assert found[1].startswith("soxr==") and found[1].endswith("is locked for pyproject.toml, which no longer asks for it")


def test_every_lock_holds_the_tested_versions_where_it_shares_a_package():
    tested = {pin.name: pin.version for pin in lockfiles.read_lock(lockfiles.lock_path(*REFERENCE))}
    for environment, target in every_lock():
        if not ENVIRONMENTS[environment].project:
            continue  # the SDKs and uv live in environments of their own
        for pin in lockfiles.read_lock(lockfiles.lock_path(environment, target)):
            if pin.name in tested and pin.name != "torch":
                assert pin.version == tested[pin.name], (environment, target, pin)


def test_the_processor_build_of_torch_is_pinned_by_its_label_and_hash():
    lock = lockfiles.lock_path("app", "linux-x86_64-cpu")
    torch = [pin for pin in lockfiles.read_lock(lock) if pin.name == "torch"]
    assert [pin.version.split("+")[1] for pin in torch] == ["cpu"]
    text = lock.read_text()
    entry = text[text.index("torch==") :].split("    # via")[0]
    assert "--hash=sha256:" in entry
    # PyPI's Linux torch is the CUDA build, with NVIDIA's libraries: none in a processor lock.
    assert not [pin for pin in lockfiles.read_lock(lock) if pin.name.startswith("nvidia-")]
    assert [pin for pin in lockfiles.read_lock(lockfiles.lock_path("app", "linux-x86_64-cu130"))
            if pin.name.startswith("nvidia-cublas")]


@pytest.mark.parametrize(("system", "machine", "torch", "expected"), [
    ("Linux", "x86_64", None, "linux-x86_64-cpu"),
    ("Linux", "x86_64", "cu130", "linux-x86_64-cu130"),
    ("Linux", "aarch64", "cu130", "linux-aarch64-cu130"),
    ("Darwin", "arm64", None, "macos-arm64-cpu"),
    ("Windows", "AMD64", "cu130", "windows-x86_64-cu130"),
    ("MINGW64_NT-10.0", "x86_64", None, "windows-x86_64-cpu"),
])
def test_the_machine_and_dia_torch_choose_the_target(monkeypatch, system, machine, torch, expected):
    monkeypatch.setattr(platform, "system", lambda: system)
    monkeypatch.setattr(platform, "machine", lambda: machine)
    monkeypatch.delenv("DIA_TORCH", raising=False)
    if torch:
        monkeypatch.setenv("DIA_TORCH", torch)
    assert lockfiles.this_target().name == expected


def test_a_machine_or_build_without_a_lock_is_said_plainly(monkeypatch):
    monkeypatch.setattr(platform, "system", lambda: "Darwin")
    monkeypatch.setattr(platform, "machine", lambda: "x86_64")
    with pytest.raises(LockError, match="no lock for Darwin on x86_64"):
        lockfiles.this_target()
    monkeypatch.setattr(platform, "machine", lambda: "arm64")
    monkeypatch.setenv("DIA_TORCH", "cu130")
    with pytest.raises(LockError, match="DIA_TORCH=cu130 is not a build of torch for Darwin on arm64: choose cpu"):
        lockfiles.this_target()
    monkeypatch.setenv("DIA_TORCH", "cpu")
    monkeypatch.setattr(platform, "system", lambda: "Linux")
    monkeypatch.setattr(platform, "machine", lambda: "aarch64")
    monkeypatch.setattr(lockfiles, "LOCKS", ROOT / "tests" / "no-such-folder")
    with pytest.raises(LockError, match="no lock for app on linux-aarch64-cpu .*PyTorch's index"):
        lockfiles.lock_for("app")


def _fake_install(site_packages, **versions):
    for name, version in versions.items():
        info = site_packages / f"{name}-{version}.dist-info"
        info.mkdir(parents=True)
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n\nText: x\n")


def test_what_is_installed_is_compared_with_the_lock_a_line_each(tmp_path, monkeypatch):
    monkeypatch.setattr(lockfiles, "LOCKS", tmp_path / "locks")
    (tmp_path / "locks").mkdir()
    lockfiles.lock_path("runware", None).write_text(
        "six==1.17.0 \\\n    --hash=sha256:aa\n    # via dia-studio (pyproject.toml:runware)\n"
        "Websockets==15.0.1 ; sys_platform == 'never' \\\n    --hash=sha256:bb\n"
        "aiohttp==3.14.5 \\\n    --hash=sha256:cc\n")
    folder = tmp_path / "sdk"
    _fake_install(folder, six="1.17.0", aiohttp="3.14.5", pip="24.0")
    assert lockfiles.differences_from_lock(folder, "runware") == []
    shutil.rmtree(folder / "aiohttp-3.14.5.dist-info")
    _fake_install(folder, aiohttp="3.15.0", requests="2.0")
    shutil.rmtree(folder / "six-1.17.0.dist-info")
    assert lockfiles.differences_from_lock(folder, "runware") == [
        "aiohttp is 3.15.0, locked 3.14.5", "six==1.17.0 is locked but not installed",
        "requests==2.0 is installed but not locked"]


def test_a_synced_folder_is_current_until_the_lock_or_pyproject_changes(tmp_path, monkeypatch):
    monkeypatch.setattr(lockfiles, "LOCKS", tmp_path / "locks")
    monkeypatch.setattr(lockfiles, "PYPROJECT", tmp_path / "pyproject.toml")
    (tmp_path / "locks").mkdir()
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    lock = lockfiles.lock_path("runware", None)
    lock.write_text("six==1.17.0 \\\n    --hash=sha256:aa\n")
    folder = tmp_path / "sdk"
    folder.mkdir()
    assert not lockfiles.current(folder, "runware")
    (folder / lockfiles.STAMP).write_text(f'{{"environment": "runware", "digest": "{lockfiles._digest(lock)}"}}')
    assert lockfiles.current(folder, "runware")
    assert not lockfiles.current(folder, "runware-sdk")
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\nversion = '2'\n")
    assert not lockfiles.current(folder, "runware")


def test_a_set_up_for_the_tests_stays_one_when_the_studio_starts_after_a_new_lock(tmp_path):
    folder = tmp_path / "venv"
    folder.mkdir()
    assert lockfiles.to_hold(folder, "app") == "app"  # nothing set up yet
    (folder / lockfiles.STAMP).write_text('{"environment": "test", "digest": "of an older lock"}')
    assert lockfiles.to_hold(folder, "app") == "test" and lockfiles.to_hold(folder, "cluster") == "test"
    assert lockfiles.to_hold(folder, "bundle") == "bundle"
    (folder / lockfiles.STAMP).write_text('{"environment": "app", "digest": "x"}')
    assert lockfiles.to_hold(folder, "test") == "test"


def test_this_checkout_holds_exactly_its_test_lock():
    """tests/run.sh checks it before the tests too; this names the difference if a test installed something."""
    venv = ROOT / ".venv"
    if not (venv / lockfiles.STAMP).exists():
        pytest.fail("this .venv was not set up by installer/setup.sh --test (tests/run.sh does it)", pytrace=False)
    assert lockfiles.differences_from_lock(venv, "test") == []


def test_a_set_up_studio_starts_without_a_network():
    """README's start command a second time, with no network at all: nothing is installed, it starts."""
    if not shutil.which("unshare"):
        pytest.fail("unshare (util-linux) is needed to take the network away", pytrace=False)
    if not lockfiles.current(ROOT / ".venv", "app"):  # else the start would set up (never in a test)
        pytest.fail(".venv is not set up as locked now: run installer/setup.sh --test", pytrace=False)
    finished = subprocess.run(["unshare", "--net", "--map-root-user", "installer/run-studio.sh", "--version"],
                              cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert finished.returncode == 0, finished.stderr
    assert finished.stdout.startswith("dia-studio ")
    assert "pip" not in finished.stderr


def test_pytorchs_index_is_asked_only_when_pips_sources_lack_the_torch_build(tmp_path, monkeypatch):
    import subprocess as sp

    (tmp_path / "pyvenv.cfg").write_text("")
    (tmp_path / "lib" / "python3.11" / "site-packages").mkdir(parents=True)
    monkeypatch.setattr(lockfiles, "_python_of", lambda folder: "python")
    monkeypatch.setattr(lockfiles, "check_python", lambda python: None)
    monkeypatch.setattr(platform, "system", lambda: "Linux")
    monkeypatch.setattr(platform, "machine", lambda: "x86_64")
    monkeypatch.delenv("DIA_TORCH", raising=False)
    monkeypatch.delenv("DIA_TORCH_INDEX", raising=False)
    for first_error, asks_the_index in (("ERROR: No matching distribution found for torch==2.13.0+cpu", True),
                                        ("ERROR: Could not install packages due to an OSError: [Errno 28]", False)):
        calls = []

        def pip(python, *args, quiet=False):  # the first call fails with first_error, the others pass
            calls.append(args)
            failed = len(calls) == 1
            return sp.CompletedProcess(args, 1 if failed else 0, "", first_error if failed else "")

        monkeypatch.setattr(lockfiles, "_pip", pip)
        with pytest.raises(LockError):  # (nothing is really installed: the check after it says so)
            lockfiles.sync(tmp_path, "app")
        asked = [args for args in calls if "--extra-index-url" in args]
        assert bool(asked) is asks_the_index, calls
        if asks_the_index:
            assert asked[0][-1] == "https://download.pytorch.org/whl/cpu"
