"""`dia-studio serve` keeps glibc to two malloc arenas: with one per thread (up to eight a core),
each keeping what it once held, the soak (bench/soak.py) saw a server's memory grow by some
40 MB in the ten minutes after its warm-up, as its threads decoded and encoded audio; with two
it stayed flat. Checked in a fresh interpreter, where glibc's own report counts the arenas."""

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
from app.serve import limit_malloc_arenas

if sys.argv[1] == "limited":
    assert limit_malloc_arenas()

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
    return int(done.stdout)


def test_the_server_keeps_to_two_malloc_arenas_however_many_threads_allocate():
    assert _arenas("default") > 2  # glibc's own way: an arena per thread
    assert _arenas("limited") <= 2


def test_an_arena_limit_the_user_set_is_left_alone(monkeypatch):
    from app.serve import limit_malloc_arenas

    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    assert limit_malloc_arenas() is False
