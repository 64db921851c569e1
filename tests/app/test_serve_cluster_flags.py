"""`dia-studio serve` refuses cluster flags that cannot go together before anything starts, and
says how to get Ray when the cluster extra is missing."""

import sys

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
])
def test_cluster_flags_that_cannot_go_together_are_refused(tmp_path, capsys, flags, message):
    assert main(["serve", "--data-dir", str(tmp_path), *flags]) == 2
    assert message in capsys.readouterr().err


def test_ray_without_the_cluster_extra_says_how_to_get_it(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "app.cluster.serving", None)  # not installed
    assert main(["serve", "--data-dir", str(tmp_path), "--ray"]) == 2
    assert "--ray needs the cluster extra (pip install 'dia-studio[cluster]')" in capsys.readouterr().err
