"""The settings panel: built from FIELD_SPECS, edits the document's GenerationParams, undoable."""

from __future__ import annotations

import numpy as np

from core.document.clips import AudioClip
from core.document.speakers import Speaker
from core.document.takes import Take
from core.params import FIELD_SPECS, GenerationParams
from tests.ui.conftest import press


def test_one_widget_per_numeric_field_with_its_range_default_and_help(studio):
    panel = studio.window.parameters
    for name, spec in FIELD_SPECS.items():
        widget = panel.seed if name == "seed" else panel.fields[name]
        assert (widget.minimum(), widget.maximum()) == (spec.minimum, spec.maximum)
        assert spec.help in widget.toolTip()
        if spec.default is not None:
            assert widget.value() == spec.default


def test_a_change_is_the_documents_and_undo_brings_the_widget_back(studio, qtbot):
    panel = studio.window.parameters
    panel.fields["CFGScale"].setValue(4.5)
    panel.fields["CFGScale"].setValue(5.0)  # stepping one field is one undo step
    assert studio.dialogue.params.cfg_scale == 5.0
    panel.fields["settings.topK"].setValue(120)
    assert studio.dialogue.params.top_k == 120

    press(qtbot, studio.window.actions.undo)
    assert panel.fields["settings.topK"].value() == 50
    press(qtbot, studio.window.actions.undo)
    assert panel.fields["CFGScale"].value() == 3.0 and studio.dialogue.params.cfg_scale == 3.0


def test_a_refused_value_shows_the_models_message_and_is_not_applied(studio, qtbot):
    panel = studio.window.parameters
    panel.negative_prompt.setText("x")  # negativePrompt takes 2 to 3000 characters
    panel.negative_prompt.editingFinished.emit()
    assert studio.dialogue.params.negative_prompt is None
    assert "negativePrompt" in panel.error_label.text() and panel.error_label.isVisibleTo(panel)

    panel.negative_prompt.setText("robotic, flat")
    panel.negative_prompt.editingFinished.emit()
    assert studio.dialogue.params.negative_prompt == "robotic, flat"
    assert not panel.error_label.isVisibleTo(panel)


def test_negative_prompt_is_off_without_guidance(studio):
    panel = studio.window.parameters
    panel.fields["CFGScale"].setValue(1.0)
    assert not panel.negative_prompt.isEnabled()


def test_seed_lock_new_random_and_reuse_of_a_takes_seed(studio, qtbot):
    panel = studio.window.parameters
    assert studio.dialogue.params.seed is None and not panel.seed.isEnabled()
    panel.new_seed_button.click()
    assert panel.seed_lock.isChecked() and studio.dialogue.params.seed == panel.seed.value()

    panel.seed_lock.setChecked(False)
    assert studio.dialogue.params.seed is None

    studio.dialogue.add_line(Speaker.S1, "Hi")
    take = Take(GenerationParams(seed=424242), AudioClip.from_samples(np.zeros(2400, np.float32), 24000),
                studio.dialogue.lines)
    studio.dialogue.add_takes([take])
    assert panel.reuse_seed_button.isEnabled()
    panel.reuse_seed_button.click()
    assert studio.dialogue.params.seed == 424242 and panel.seed.value() == 424242


def test_reset_to_defaults(studio):
    panel = studio.window.parameters
    panel.fields["settings.temperature"].setValue(1.5)
    panel.include_prefix.setChecked(True)
    panel.reset_button.click()
    assert studio.dialogue.params == GenerationParams()
    assert panel.fields["settings.temperature"].value() == 0.6 and not panel.include_prefix.isChecked()
