"""Unit tests of the pixelcnn rubric beyond the corpus.

The corpus (tests/corpus/pixelcnn, graded by tests/test_corpus.py) runs each
submission once, under the engine's fixed seeds. Here the statistical checks run
in-process under many seeds, to show that correct samplers pass them whatever the
seed and that the sampling mutants fail them whatever the seed; and the rubric's
helpers are compared with independent computations.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch

from grader.checks import pixelcnn as rubric
from grader.messages import pixelcnn as catalogue
from grader.sandboxed.probes import pixelcnn as pixelcnn_probes

from tests.local_grading import failure_id

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "corpus" / "pixelcnn"
CORRECT = ["correct_plain_stack.py", "correct_parametrize_residual.py", "correct_hook_gated.py"]
SEEDS = range(4)


STATISTICAL = [rubric.test_sample_first_pixel, rubric.test_sample_distribution,
               rubric.test_sample_distribution_non_square]


@pytest.mark.parametrize("name", CORRECT + ["../../../reference/pixelcnn.py"])
@pytest.mark.parametrize("check", STATISTICAL, ids=lambda c: c.__name__)
def test_correct_samplers_pass_under_every_seed(name, check):
    for seed in SEEDS:
        assert failure_id(check, CORPUS / name, seed) is None, f"seed {seed}"


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
        assert failure_id(check, CORPUS / name, seed) == message_id, f"seed {seed}"


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
