"""Every face of `dia-studio` (the window, the commands, `serve`) and the model's own process keep
glibc to two malloc arenas: with one per thread (up to eight a core), each keeping what it once
held, the soaks saw a server's memory grow by some 40 MB in the ten minutes after its warm-up
(bench/soak.py), and the studio's by some 190 MB an hour beside its warm voices
(bench/soak_studio.py), as their threads decoded, generated and encoded audio; with two both
stayed flat. Checked in a fresh interpreter, where glibc's own report counts the arenas."""

import os
import platform
import subprocess
import sys

import pytest

from tests.service.server_process import REPO

pytestmark = pytest.mark.skipif(platform.system() != "Linux" or platform.libc_ver()[0] != "glibc",
                                reason="malloc arenas are glibc's")

THREADS_ALLOCATING = """
import ctypes, sys, tempfile, threading

if sys.argv[1] == "limited":
    from core.engine.memory import limit_malloc_arenas

    assert limit_malloc_arenas()
elif sys.argv[1] == "program":  # dia-studio run as the program, as a user starts it
    import app.main

    sys.argv = ["dia-studio", "--version"]
    assert app.main.main() == 0

def allocate():
    for _ in range(20):
        blocks = [bytearray(300_000) for _ in range(10)]  # above pymalloc's size: malloc's own
        del blocks

threads = [threading.Thread(target=allocate) for _ in range(8)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
libc = ctypes.CDLL(None)
libc.fopen.restype = ctypes.c_void_p
with tempfile.NamedTemporaryFile(suffix=".xml") as report:
    stream = libc.fopen(report.name.encode(), b"w")
    libc.malloc_info(0, ctypes.c_void_p(stream))
    libc.fclose(ctypes.c_void_p(stream))
    print(open(report.name).read().count("<heap nr="))
"""


def _arenas(mode: str) -> int:
    environ = {key: value for key, value in os.environ.items() if key != "MALLOC_ARENA_MAX"}
    done = subprocess.run([sys.executable, "-c", THREADS_ALLOCATING, mode], cwd=REPO, capture_output=True, text=True,
                          env=environ | {"PYTHONPATH": str(REPO)}, timeout=120)
    assert done.returncode == 0, done.stderr
    return int(done.stdout.split()[-1])  # after what the program printed


def test_two_malloc_arenas_however_many_threads_allocate():
    assert _arenas("default") > 2  # glibc's own way: an arena per thread
    assert _arenas("limited") <= 2


def test_dia_studio_run_as_a_program_keeps_to_two_arenas_whatever_it_runs():
    assert _arenas("program") <= 2


def test_an_arena_limit_the_user_set_is_left_alone(monkeypatch):
    from core.engine.memory import limit_malloc_arenas

    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    assert limit_malloc_arenas() is False
