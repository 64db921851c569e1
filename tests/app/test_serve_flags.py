"""`dia-studio serve`'s flags: cluster flags that cannot go together are refused before anything
starts, a missing cluster extra is said with how to get it, and the data folder defaults to where
each system keeps an application's data."""

import sys
from pathlib import Path

import pytest

from app.main import main


@pytest.mark.parametrize("flags, message", [
    (["--replicas", "2"], "--replicas applies only with --ray"),
    (["--gpus-per-replica", "1"], "--gpus-per-replica applies only with --ray"),
    (["--ray", "--replicas", "0"], "--replicas 0: give 1 or more"),
    (["--ray", "--replicas", "2", "--max-replicas", "4"], "not both"),
    (["--ray", "--max-replicas", "4"], "--min-replicas and --max-replicas go together"),
    (["--ray", "--min-replicas", "0", "--max-replicas", "4"], "--min-replicas 0: give 1 or more, up to"),
    (["--ray", "--min-replicas", "5", "--max-replicas", "4"], "--min-replicas 5: give 1 or more, up to"),
    (["--ray", "--gpus-per-replica", "-1"], "--gpus-per-replica -1: give 0 or more"),
    (["--queue-limit", "0"], "--queue-limit 0: give 1 or more"),
    (["--warm-voices-mb", "-1"], "--warm-voices-mb -1: give 0 or more"),
])
def test_cluster_flags_that_cannot_go_together_are_refused(tmp_path, capsys, flags, message):
    assert main(["serve", "--data-dir", str(tmp_path), *flags]) == 2
    assert message in capsys.readouterr().err


def test_ray_without_the_cluster_extra_says_how_to_get_it(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "app.cluster.serving", None)  # not installed
    assert main(["serve", "--data-dir", str(tmp_path), "--ray"]) == 2
    assert "--ray needs the cluster extra (pip install 'dia-studio[cluster]')" in capsys.readouterr().err


@pytest.mark.parametrize("platform, environ, expected", [
    ("linux", {"XDG_DATA_HOME": "/data/me"}, "/data/me/dia-studio/service"),
    ("linux", {}, "~/.local/share/dia-studio/service"),
    ("win32", {"LOCALAPPDATA": "C:/Users/me/AppData/Local"}, "C:/Users/me/AppData/Local/dia-studio/service"),
    ("darwin", {}, "~/Library/Application Support/dia-studio/service"),
])
def test_the_default_data_folder_is_where_each_system_keeps_an_applications_data(platform, environ, expected):
    from app.serve import default_data_dir

    assert default_data_dir(platform, environ) == Path(expected).expanduser()
