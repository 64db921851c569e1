"""Which engine a choice opens, and where the model runs by default on each platform."""

from __future__ import annotations

from core.engine.choice import EngineChoice, default_kind, open_engine
from core.engine.engine import EngineKind
from core.engine.in_process import InProcessEngine
from core.engine.own_process import OwnProcessEngine


def test_each_local_kind_opens_its_engine_unloaded_and_starts_nothing():
    in_process = open_engine(EngineChoice(EngineKind.IN_PROCESS))
    own_process = open_engine(EngineChoice(EngineKind.OWN_PROCESS))
    assert isinstance(in_process, InProcessEngine) and in_process.kind is EngineKind.IN_PROCESS
    assert isinstance(own_process, OwnProcessEngine) and own_process.kind is EngineKind.OWN_PROCESS
    assert in_process.info is None and own_process.info is None and own_process.pid is None


def test_the_model_runs_in_its_own_process_by_default_except_on_macos():
    assert default_kind("linux") is EngineKind.OWN_PROCESS
    assert default_kind("win32") is EngineKind.OWN_PROCESS
    assert default_kind("darwin") is EngineKind.IN_PROCESS
