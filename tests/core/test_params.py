"""GenerationParams: the one validated model of the generation fields (shared/api-parameters.md)."""

from __future__ import annotations

import json
import math

import pytest

from core.errors import DiaStudioError, InvalidParameter
from core.params import FIELD_SPECS, MODEL_IDS, SEED_MAX, GenerationParams

# attribute name, API name, minimum, maximum, integer
NUMERIC = [
    ("seed", "seed", 0, 2_147_483_647, True),
    ("cfg_scale", "CFGScale", 1.0, 30.0, False),
    ("temperature", "settings.temperature", 0.0, 5.0, False),
    ("audio_temperature", "settings.audioTemperature", 0.0, 5.0, False),
    ("top_k", "settings.topK", 1, 500, True),
    ("number_results", "numberResults", 1, 4, True),
]
NUMERIC_IDS = [api for _, api, *_ in NUMERIC]
RANGE_TEXT = {
    "seed": "an integer from 0 to 2147483647",
    "CFGScale": "a number from 1 to 30",
    "settings.temperature": "a number from 0 to 5",
    "settings.audioTemperature": "a number from 0 to 5",
    "settings.topK": "an integer from 1 to 500",
    "numberResults": "an integer from 1 to 4",
}


def refused(**values) -> InvalidParameter:
    with pytest.raises(InvalidParameter) as raised:
        GenerationParams(**values)
    return raised.value


def test_defaults_are_the_documented_ones():
    params = GenerationParams()
    assert (params.model, params.negative_prompt, params.seed) == ("dia2-2b", None, None)
    assert (params.cfg_scale, params.temperature, params.audio_temperature) == (3.0, 0.6, 0.8)
    assert (params.top_k, params.include_prefix, params.number_results) == (50, False, 1)
    assert params.guidance_enabled


def test_field_specs_hold_the_documented_ranges():
    for _, api, low, high, integer in NUMERIC:
        spec = FIELD_SPECS[api]
        assert (spec.minimum, spec.maximum, spec.integer) == (low, high, integer), api
    assert SEED_MAX == 2_147_483_647


@pytest.mark.parametrize("attribute, api, low, high, integer", NUMERIC, ids=NUMERIC_IDS)
def test_range_edges_are_accepted(attribute, api, low, high, integer):
    for edge in (low, high):
        value = getattr(GenerationParams(**{attribute: edge}), attribute)
        assert value == edge
        assert type(value) is (int if integer else float)


@pytest.mark.parametrize("attribute, api, low, high, integer", NUMERIC, ids=NUMERIC_IDS)
def test_just_outside_the_range_is_refused_naming_field_value_and_range(attribute, api, low, high, integer):
    step = 1 if integer else 0.01
    for value in (low - step, high + step):
        error = refused(**{attribute: value})
        assert (error.field, error.value) == (api, value)
        expected_range = RANGE_TEXT[api]
        assert error.allowed == expected_range
        assert str(error) == f"{api} = {value!r} is not allowed: {expected_range}."


@pytest.mark.parametrize("attribute, api, low, high, integer", NUMERIC, ids=NUMERIC_IDS)
@pytest.mark.parametrize("value", [True, False, "3", None, [3], math.nan, math.inf, -math.inf],
                         ids=["True", "False", "str", "None", "list", "nan", "inf", "-inf"])
def test_wrong_types_bools_and_non_finite_numbers_are_refused(attribute, api, low, high, integer, value):
    if value is None and attribute == "seed":
        assert GenerationParams(seed=None).seed is None  # None means "pick a seed"
        return
    error = refused(**{attribute: value})
    assert error.field == api
    assert error.value is value or (isinstance(value, float) and math.isnan(error.value))


@pytest.mark.parametrize("attribute, api", [("seed", "seed"), ("top_k", "settings.topK"),
                                            ("number_results", "numberResults")])
def test_integer_fields_refuse_fractions_but_take_whole_floats_as_ints(attribute, api):
    error = refused(**{attribute: 2.5})
    assert (error.field, error.value) == (api, 2.5)
    assert "an integer" in str(error)
    value = getattr(GenerationParams(**{attribute: 2.0}), attribute)
    assert value == 2 and type(value) is int


def test_float_fields_take_ints_and_keep_fractions():
    params = GenerationParams(cfg_scale=7, temperature=1.25, audio_temperature=0)
    assert (params.cfg_scale, params.temperature, params.audio_temperature) == (7.0, 1.25, 0.0)
    assert type(params.cfg_scale) is float and type(params.audio_temperature) is float


def test_a_huge_integer_is_refused_not_overflowing():
    # Python's json reads any length of integer; float() of it would raise OverflowError.
    huge = 10**400
    for attribute, api in (("seed", "seed"), ("top_k", "settings.topK"), ("cfg_scale", "CFGScale")):
        error = refused(**{attribute: huge})
        assert (error.field, error.value) == (api, huge)


@pytest.mark.parametrize("length, ok", [(0, False), (1, False), (2, True), (3000, True), (3001, False)])
def test_negative_prompt_length(length, ok):
    text = "x" * length
    if ok:
        assert GenerationParams(negative_prompt=text).negative_prompt == text
    else:
        error = refused(negative_prompt=text)
        assert (error.field, error.value, error.allowed) == ("negativePrompt", text, "a text of 2 to 3000 characters")


def test_negative_prompt_must_be_text():
    error = refused(negative_prompt=12345)
    assert (error.field, error.value) == ("negativePrompt", 12345)


def test_every_model_id_is_accepted_and_others_are_refused():
    assert set(MODEL_IDS) == {"runware:dia2@2b", "dia2-2b", "dia2-1b"}
    for model in MODEL_IDS:
        assert GenerationParams(model=model).model == model
    for model in ("dia2-3b", "nari-labs/Dia2-2B", "", "DIA2-2B", ["dia2-2b"], None):
        error = refused(model=model)
        assert (error.field, error.value) == ("model", model)
        assert "dia2-1b, dia2-2b, runware:dia2@2b" in error.allowed


def test_include_prefix_must_be_a_bool():
    assert GenerationParams(include_prefix=True).include_prefix is True
    for value in (1, 0, "true", None):
        error = refused(include_prefix=value)
        assert (error.field, error.value, error.allowed) == ("settings.includePrefix", value, "true or false")


def test_invalid_parameter_is_a_studio_error_and_a_value_error():
    error = refused(top_k=0)
    assert isinstance(error, DiaStudioError) and isinstance(error, ValueError)


def test_guidance_is_off_at_cfg_1_only():
    assert not GenerationParams(cfg_scale=1).guidance_enabled
    assert GenerationParams(cfg_scale=1.01).guidance_enabled


def test_create_leaves_out_none_so_defaults_apply():
    params = GenerationParams.create(seed=None, cfg_scale=None, top_k=7, negative_prompt=None)
    assert (params.seed, params.cfg_scale, params.top_k, params.negative_prompt) == (None, 3.0, 7, None)
    with pytest.raises(InvalidParameter, match="settings.topK"):
        GenerationParams.create(top_k=501)


def test_params_are_immutable():
    params = GenerationParams()
    with pytest.raises(AttributeError):
        params.top_k = 3  # type: ignore[misc]


# --- the API's nested JSON form -------------------------------------------------------------

FULL = {
    "model": "runware:dia2@2b",
    "negativePrompt": "muffled, robotic",
    "seed": 2_147_483_647,
    "CFGScale": 4.5,
    "settings": {"temperature": 0.0, "audioTemperature": 5.0, "topK": 500, "includePrefix": True},
    "numberResults": 4,
}


def test_from_dict_reads_every_field_including_nested_settings():
    params = GenerationParams.from_dict(FULL)
    assert params == GenerationParams(model="runware:dia2@2b", negative_prompt="muffled, robotic",
                                      seed=2_147_483_647, cfg_scale=4.5, temperature=0.0,
                                      audio_temperature=5.0, top_k=500, include_prefix=True, number_results=4)


def test_to_dict_is_the_nested_api_form_and_round_trips_through_json():
    params = GenerationParams.from_dict(FULL)
    assert params.to_dict() == FULL
    assert GenerationParams.from_dict(json.loads(json.dumps(params.to_dict()))) == params


def test_to_dict_of_defaults_leaves_out_absent_values_and_round_trips():
    out = GenerationParams().to_dict()
    assert out == {"model": "dia2-2b", "CFGScale": 3.0, "numberResults": 1,
                   "settings": {"temperature": 0.6, "audioTemperature": 0.8, "topK": 50, "includePrefix": False}}
    assert GenerationParams.from_dict(out) == GenerationParams()


def test_from_dict_with_partial_settings_keeps_the_other_defaults():
    params = GenerationParams.from_dict({"settings": {"topK": 10}})
    assert (params.top_k, params.temperature, params.audio_temperature) == (10, 0.6, 0.8)
    assert GenerationParams.from_dict({}) == GenerationParams()
    assert GenerationParams.from_dict({"settings": {}}) == GenerationParams()


def test_from_dict_validates_with_api_names():
    with pytest.raises(InvalidParameter) as raised:
        GenerationParams.from_dict({"settings": {"audioTemperature": 5.5}})
    assert (raised.value.field, raised.value.value) == ("settings.audioTemperature", 5.5)
    assert str(raised.value) == "settings.audioTemperature = 5.5 is not allowed: a number from 0 to 5."


@pytest.mark.parametrize("data, field, value", [
    ({"cfgScale": 3}, "cfgScale", 3),
    ({"seed": 1, "top_k": 5}, "top_k", 5),
    ({"settings": {"topk": 5}}, "settings.topk", 5),
    ({"settings": {"cfg_scale": 2}}, "settings.cfg_scale", 2),
    # the dotted spelling belongs to the nested form only
    ({"settings.topK": 5}, "settings.topK", 5),
], ids=["wrong-case", "attribute-name", "settings-wrong-case", "settings-unknown", "dotted-top-level"])
def test_from_dict_refuses_unknown_keys_naming_them(data, field, value):
    with pytest.raises(InvalidParameter) as raised:
        GenerationParams.from_dict(data)
    assert (raised.value.field, raised.value.value) == (field, value)
    assert "CFGScale" in raised.value.allowed and "settings.topK" in raised.value.allowed


def test_from_dict_refuses_settings_that_are_not_an_object():
    for settings in (5, "topK=5", [["topK", 5]]):
        with pytest.raises(InvalidParameter) as raised:
            GenerationParams.from_dict({"settings": settings})
        assert (raised.value.field, raised.value.value) == ("settings", settings)


def test_from_dict_does_not_change_its_argument():
    data = json.loads(json.dumps(FULL))
    GenerationParams.from_dict(data)
    assert data == FULL


# --- seeds ----------------------------------------------------------------------------------

def test_with_seed_uses_the_given_then_own_seed():
    assert GenerationParams().with_seed(42).seed == 42
    assert GenerationParams(seed=7).with_seed().seed == 7
    assert GenerationParams(seed=7).with_seed(8).seed == 8


def test_with_seed_picks_a_random_seed_in_range_when_none():
    seeds = {GenerationParams().with_seed().seed for _ in range(20)}
    assert all(isinstance(seed, int) and 0 <= seed <= SEED_MAX for seed in seeds)
    assert len(seeds) > 1


def test_with_seed_keeps_every_other_field():
    params = GenerationParams.from_dict(FULL)
    seeded = params.with_seed(3)
    assert seeded.to_dict() == {**FULL, "seed": 3}


def test_with_seed_validates_the_seed():
    for seed in (-1, SEED_MAX + 1, 1.5, True):
        with pytest.raises(InvalidParameter) as raised:
            GenerationParams().with_seed(seed)
        assert (raised.value.field, raised.value.value) == ("seed", seed)


def test_take_seeds_count_up_from_the_seed():
    assert GenerationParams(seed=10, number_results=4).take_seeds() == [10, 11, 12, 13]
    assert GenerationParams(seed=0).take_seeds() == [0]


def test_take_seeds_wrap_around_inside_the_range():
    assert GenerationParams(seed=SEED_MAX, number_results=3).take_seeds() == [2_147_483_647, 0, 1]
    assert GenerationParams(seed=SEED_MAX - 1, number_results=4).take_seeds() == [2_147_483_646, 2_147_483_647, 0, 1]


def test_take_seeds_need_a_concrete_seed():
    with pytest.raises(ValueError, match="with_seed"):
        GenerationParams(number_results=2).take_seeds()
    assert len(GenerationParams(number_results=2).with_seed().take_seeds()) == 2
