"""Unit tests of the pixelcnn rubric beyond the corpus.

The corpus (tests/corpus/pixelcnn, graded by tests/test_corpus.py) runs each
submission once, under the engine's fixed seeds. Here the statistical checks run
in-process under many seeds, to show that correct samplers pass them whatever the
seed and that the sampling mutants fail them whatever the seed; and the rubric's
helpers are compared with independent computations.
"""
from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

import pytest
import torch

from grader.checks import pixelcnn as rubric
from grader.errors import CheckFailed
from grader.messages import pixelcnn as catalogue
from grader.probes import common as common_probes
from grader.probes import pixelcnn as pixelcnn_probes
from grader.protocol import TensorOrigin

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "corpus" / "pixelcnn"
CORRECT = ["correct_plain_stack.py", "correct_parametrize_residual.py", "correct_hook_gated.py"]
SEEDS = range(4)


def _load(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _value(result):
    """What the worker would send back: CPU copies of tensors that remember their origin."""
    if isinstance(result, torch.Tensor):
        copy = result.detach().cpu().clone()
        copy.gengrade_origin = TensorOrigin(str(result.device), str(result.dtype).replace("torch.", ""),
                                            result.requires_grad, result.grad_fn is not None)
        return copy
    if isinstance(result, (tuple, list)):
        return type(result)(_value(v) for v in result)
    if isinstance(result, dict):
        return {k: _value(v) for k, v in result.items()}
    if isinstance(result, (int, float, str, bool, type(None))):
        return result
    return _Live(result)


def _live(value):
    if isinstance(value, _Live):
        return object.__getattribute__(value, "obj")
    if isinstance(value, (tuple, list)):
        return type(value)(_live(v) for v in value)
    if isinstance(value, dict):
        return {k: _live(v) for k, v in value.items()}
    return value


class _Live:
    """An in-process stand-in for `grader.remote.Remote`."""

    __slots__ = ("obj",)

    def __init__(self, obj):
        object.__setattr__(self, "obj", obj)

    def __getattr__(self, name):
        return _value(getattr(object.__getattribute__(self, "obj"), name))

    def __call__(self, *args, **kwargs):
        return _value(object.__getattribute__(self, "obj")(*_live(args), **_live(kwargs)))


class LocalSubmission:
    """The `sub` fixture without a worker: for trusted corpus files only, to run checks under many seeds."""

    device = "cpu"

    def __init__(self, module: ModuleType):
        self._module = module

    def __getattr__(self, name):
        return _value(getattr(self._module, name))

    def probe(self, name: str, *args, **kwargs):
        module_name, _, function = name.partition(".")
        probes = {"pixelcnn": pixelcnn_probes, "common": common_probes}[module_name]
        return _value(getattr(probes, function)(*_live(args), **_live(kwargs)))


def _run(check, path: Path, seed: int) -> str | None:
    """The message id the check fails with, or None when it passes."""
    torch.manual_seed(seed)
    try:
        check(LocalSubmission(_load(path)))
    except CheckFailed as failure:
        return failure.message_id
    return None


STATISTICAL = [rubric.test_sample_first_pixel, rubric.test_sample_distribution,
               rubric.test_sample_distribution_non_square]


@pytest.mark.parametrize("name", CORRECT + ["../../../reference/pixelcnn.py"])
@pytest.mark.parametrize("check", STATISTICAL, ids=lambda c: c.__name__)
def test_correct_samplers_pass_under_every_seed(name, check):
    for seed in SEEDS:
        assert _run(check, CORPUS / name, seed) is None, f"seed {seed}"


@pytest.mark.parametrize("name, check, message_id", [
    ("mut_sample_threshold.py", rubric.test_sample_first_pixel, "pixelcnn.sample.first_pixel"),
    ("mut_sample_parallel.py", rubric.test_sample_distribution, "pixelcnn.sample.distribution"),
    ("mut_sample_parallel.py", rubric.test_sample_distribution_non_square, "pixelcnn.sample.distribution"),
    ("mut_sample_column_major.py", rubric.test_sample_distribution, "pixelcnn.sample.distribution"),
    ("mut_sample_minus_one_canvas.py", rubric.test_sample_distribution, "pixelcnn.sample.distribution"),
    ("mut_sample_minus_one_canvas.py", rubric.test_sample_distribution_non_square, "pixelcnn.sample.distribution"),
    ("mut_sigmoid_output.py", rubric.test_sample_distribution, "pixelcnn.sample.distribution"),
])
def test_sampling_mutants_fail_under_every_seed(name, check, message_id):
    for seed in SEEDS:
        assert _run(check, CORPUS / name, seed) == message_id, f"seed {seed}"


@pytest.mark.parametrize("mask_type", ["A", "B"])
@pytest.mark.parametrize("kernel_size", [1, 3, 5, 7])
def test_expected_dependencies_match_a_masked_convolution(mask_type, kernel_size):
    """The rubric's dependency set equals the Jacobian of an nn.Conv2d whose weight is masked
    by hand (all-ones weights, so no allowed entry is zero by chance)."""
    side, half = 6, kernel_size // 2
    conv = torch.nn.Conv2d(2, 3, kernel_size, padding=half).double()
    mask = torch.ones(kernel_size, kernel_size)
    mask[half, half + (mask_type == "B"):] = 0
    mask[half + 1:] = 0
    with torch.no_grad():
        conv.weight.copy_(mask.expand_as(conv.weight))
    jac = torch.autograd.functional.jacobian(conv, torch.zeros(1, 2, side, side, dtype=torch.float64))
    got = rubric.expected_dependencies(mask_type, kernel_size, 2, 3, side)
    assert torch.equal(jac[0, :, :, :, 0] != 0, got)


def test_image_codes_invert_all_images():
    images = rubric.all_images(2, 3)
    assert images.shape == (64, 1, 2, 3)
    assert torch.equal(rubric.image_codes(images), torch.arange(64))
    assert images[1].flatten().tolist() == [0, 0, 0, 0, 0, 1]  # the last raster pixel is the lowest bit


def test_every_message_the_rubric_can_raise_exists_in_both_languages():
    source = Path(rubric.__file__).read_text()
    quoted = re.findall(r'"(pixelcnn\.[a-z_.]+)"', source)
    ids = {i for i in quoted if not hasattr(pixelcnn_probes, i[len("pixelcnn."):])}  # probe names are not messages
    ids |= {f"pixelcnn.when.{w}" for w in ("init", "trained", "model_init", "model_trained")}
    ids |= {f"pixelcnn.where.{w}" for w in ("centre", "right", "below", "left", "above")}
    ids |= {f"pixelcnn.hint.{kind}_{w}" for kind in ("leak", "blind")
            for w in ("centre", "right", "below", "left", "above")}
    ids.add("pixelcnn.hint.mask_trained")
    ids |= {f"pixelcnn.nll.hint.{h}" for h in ("mean_pixels", "bits", "bits_mean", "sum_batch", "sign",
                                                "double_sigmoid", "minus_one", "sigmoid_forward", "none")}
    ids |= {f"pixelcnn.sample.hint.{h}"
            for h in ("parallel", "column_major", "minus_one", "threshold", "probabilities", "none")}
    assert ids <= set(catalogue.EN), sorted(ids - set(catalogue.EN))
    assert set(catalogue.EN) == set(catalogue.KO)
