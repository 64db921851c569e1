"""A tiny Whisper checkpoint that "hears" a fixed script, for tests that need Whisper offline."""

from dataclasses import asdict
from pathlib import Path

import torch
from whisper.model import ModelDimensions, Whisper
from whisper.tokenizer import get_tokenizer

# Real context lengths (one 30 s window of 1500 audio frames), tiny widths; n_vocab 51865 makes
# the model multilingual, so Whisper detects the language.
TINY_DIMS = ModelDimensions(
    n_mels=80, n_audio_ctx=1500, n_audio_state=64, n_audio_head=2, n_audio_layer=1,
    n_vocab=51865, n_text_ctx=448, n_text_state=64, n_text_head=2, n_text_layer=1,
)


def scripted_whisper(words: list[str]) -> Whisper:
    """A tiny Whisper model that hears English and ``words`` in any audio.

    The decoder's attention and MLP outputs are zeroed, so each position outputs its input token
    plus its positional embedding; that embedding is made ten times the token wanted next, so
    greedy decoding follows the script: the language, an opening timestamp, the words, a closing
    timestamp, end of text. The random cross-attention still gives Whisper something to time the
    words with, and a script with no words gives a model that hears no speech.
    """
    tokenizer = get_tokenizer(multilingual=True, num_languages=99)
    spoken = [token for word in words for token in tokenizer.encode(" " + word)]
    closing = [tokenizer.timestamp_begin + 100] if spoken else []  # 2.00 s
    script = [tokenizer.timestamp_begin, *spoken, *closing, tokenizer.eot]
    # Position 0 answers the language question; position 2 (the task token) predicts the first
    # token Whisper samples, and each later position the token after it.
    wanted = {0: tokenizer.to_language_token("en")} | {2 + i: t for i, t in enumerate(script)}

    torch.manual_seed(0)
    model = Whisper(TINY_DIMS)
    decoder = model.decoder
    with torch.no_grad():
        for block in decoder.blocks:
            for layer in (block.attn.out, block.cross_attn.out, block.mlp[2]):
                layer.weight.zero_()
                layer.bias.zero_()
        decoder.positional_embedding.zero_()  # Whisper leaves it uninitialised (torch.empty)
        for position, token in wanted.items():
            decoder.positional_embedding[position] = 10 * decoder.token_embedding.weight[token]
    return model


def scripted_whisper_checkpoint(words: list[str], path: Path) -> Path:
    model = scripted_whisper(words)
    torch.save({"dims": asdict(model.dims), "model_state_dict": model.state_dict()}, path)
    return path
