"""Drawing tokens: the same draws as torch.multinomial, and nothing that reads the device back."""

import torch

from core.dia2.sampling import SamplingRule, _draw_one, choose
from tests.core.dia2.eager_recorder import NOT_CAPTURABLE, CaptureChecker


def test_a_draw_is_torch_multinomials_draw_for_the_same_generator_state():
    probs = torch.softmax(torch.randn(2, 50, generator=torch.Generator().manual_seed(1)) * 3, dim=-1)
    for seed in range(300):
        ours = _draw_one(probs, torch.Generator().manual_seed(seed))
        torch_s = torch.multinomial(probs, 1, generator=torch.Generator().manual_seed(seed))
        assert torch.equal(ours, torch_s)


def test_choosing_a_token_never_reads_a_value_back_to_the_host():
    cond, uncond = torch.randn(1, 2048), torch.randn(1, 2048)
    generator = torch.Generator().manual_seed(0)
    checker = CaptureChecker()
    with checker:
        choose(cond, uncond, 3.0, SamplingRule(0.8, 50), generator, never=(7, 9))
    assert not checker.operations & NOT_CAPTURABLE  # (test_frame_network shows this check can fail)


def test_never_chosen_ids_are_never_chosen():
    logits = torch.zeros(1, 10)
    logits[0, 3] = logits[0, 4] = 50.0
    picks = {int(choose(logits, None, 1.0, SamplingRule(1.0, 10), torch.Generator().manual_seed(s), never=(3, 4)))
             for s in range(50)}
    assert picks and not picks & {3, 4}
