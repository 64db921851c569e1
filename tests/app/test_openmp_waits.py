"""Every face of `dia-studio` asks OpenMP's threads to wait passively, before torch loads it:
spinning, two threads on a machine with one core busy elsewhere made a frame 6.7x slower
(docs/performance.md#threads). A policy the person set is theirs."""

import os
import subprocess
import sys

import pytest

from core.dia2.openmp_waits import THEIR_OWN, wait_passively
from tests.service.server_process import REPO

RUN_AS_THE_PROGRAM = """
import os, sys
import app.main

sys.argv = ["dia-studio", "--version"]
assert app.main.main() == 0
print(os.environ.get("OMP_WAIT_POLICY"), "torch" in sys.modules)
"""


def _run(environment: dict) -> str:
    finished = subprocess.run([sys.executable, "-c", RUN_AS_THE_PROGRAM], cwd=REPO, env=environment,
                              capture_output=True, text=True, timeout=120)
    assert finished.returncode == 0, finished.stderr
    return finished.stdout.split("\n")[-2]


def test_the_program_asks_for_passive_waits_before_torch_is_loaded():
    environment = {name: value for name, value in os.environ.items() if name not in THEIR_OWN}
    assert _run({**environment, "PYTHONPATH": str(REPO)}) == "PASSIVE False"


@pytest.mark.parametrize("name, value", [("OMP_WAIT_POLICY", "ACTIVE"), ("GOMP_SPINCOUNT", "1000")])
def test_a_policy_the_person_set_is_left_alone(name, value):
    environment = {"PATH": "/usr/bin", name: value}
    assert wait_passively(environment) is False and environment == {"PATH": "/usr/bin", name: value}


def test_without_a_policy_of_their_own_the_threads_wait_passively():
    environment = {"PATH": "/usr/bin"}
    assert wait_passively(environment) is True and environment["OMP_WAIT_POLICY"] == "PASSIVE"
