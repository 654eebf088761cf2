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

from grader.errors import CheckFailed
from tests.local_grading import failure_id

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "corpus" / "pixelcnn"
CORRECT = ["correct_plain_stack.py", "correct_parametrize_residual.py", "correct_hook_gated.py",
           "correct_gated_shifted.py", "correct_batchnorm_stack.py", "correct_float_cast.py"]
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
    ids |= {f"pixelcnn.hint.leak_{w}" for w in ("centre", "right", "below", "left", "above")}
    ids |= {f"pixelcnn.hint.blind_{w}" for w in ("centre", "left", "above")}  # allowed inputs lie nowhere else
    ids |= {f"pixelcnn.hint.{h}" for h in ("mask_trained", "causal_own", "causal_future", "causal_trained")}
    ids |= {f"pixelcnn.nll.hint.{h}" for h in ("mean_pixels", "bits", "bits_mean", "sum_batch", "sign",
                                                "double_sigmoid", "minus_one", "sigmoid_forward", "none")}
    ids |= {f"pixelcnn.sample.hint.{h}"
            for h in ("parallel", "column_major", "minus_one", "threshold", "probabilities", "none")}
    ids |= {f"pixelcnn.sample.model.{whose}" for whose in ("own", "grader")}
    assert ids <= set(catalogue.EN), sorted(ids - set(catalogue.EN))
    assert set(catalogue.EN) == set(catalogue.KO)
    unused = {i for i in catalogue.EN if i not in ids and not any(i.startswith(p) for p in ("pixelcnn.when.",))}
    assert not unused, f"catalogued but never raised: {sorted(unused)}"


def test_korean_messages_leave_no_particle_to_a_placeholder():
    """No 을(를)-style alternatives, and no particle whose form depends on how a placeholder is read."""
    for message_id, text in catalogue.KO.items():
        assert not re.search(r"\((을|를|이|가|은|는|과|와)\)", text), message_id
        assert not re.search(r"\}(을|를|가|는|와)(?![가-힣])", text), message_id
        assert not re.search(r"\}(이|은|과)\s", text), message_id


def test_changed_copies_change_exactly_one_element():
    base = rubric.binary(2, 2, 3, 3)
    copies = rubric.changed_copies(base, flip=True)
    assert copies.shape == (2, 19, 2, 3, 3)
    assert torch.equal(copies[:, 0], base)
    changed = (copies[:, 1:] != base.unsqueeze(1)).flatten(2)
    assert torch.equal(changed.sum(2), torch.ones(2, 18, dtype=torch.long))
    assert torch.equal(changed[0].float().argmax(1), torch.arange(18))


def test_causal_at_size_tells_a_causal_table_from_a_leaky_one():
    images = rubric.all_images(2, 3)
    causal = rubric.raster_logits(images)
    assert rubric.causal_at_size(causal, images, 1e-6) == (True, True)
    leaky = causal + 0.5 * images  # each logit also sees its own pixel
    assert rubric.causal_at_size(leaky, images, 1e-6) == (False, True)
    constant = torch.zeros_like(causal)
    assert rubric.causal_at_size(constant, images, 1e-6) == (True, False)


def test_the_graders_sampling_model_makes_pixels_depend_on_each_other():
    """Total correlation (sum of marginal entropies minus the joint entropy, in nats) of the grader's
    model over all 3x3 images: zero for independent pixels; here most of a nat per image."""
    images = rubric.all_images(3, 3)
    log_p = -rubric.oracle.image_nll(rubric.raster_logits(images), images)
    assert abs(log_p.exp().sum().item() - 1) < 1e-9  # causal: the raster-order conditionals form a distribution
    p = log_p.exp()
    marginal = (p.view(-1, 1) * images.flatten(1).double()).sum(0)
    marginal_entropy = -(marginal * marginal.log() + (1 - marginal) * (1 - marginal).log()).sum()
    assert (marginal_entropy + (p * log_p).sum()).item() > 0.5


def test_raster_model_in_the_worker_computes_the_formula():
    images = rubric.all_images(3, 3)
    model = pixelcnn_probes.causal_model(rubric.RASTER_WEIGHT, rubric.RASTER_BIAS)
    with torch.no_grad():
        assert torch.allclose(model(images), rubric.raster_logits(images), atol=1e-6)


@pytest.mark.parametrize("name, hint", [
    ("mut_sample_parallel.py", "parallel"),
    ("mut_sample_column_major.py", "column_major"),
    ("mut_sample_minus_one_canvas.py", "minus_one"),
])
def test_sampling_mutants_fail_on_the_graders_model(name, hint):
    """When the student's PixelCNN cannot serve (here: one that sees its own pixel), samplers are judged on
    the grader's model, and every wrong sampling order is still caught and named."""
    from tests.local_grading import LocalSubmission, load_trusted

    module = load_trusted(CORPUS / name)
    module.PixelCNN = load_trusted(CORPUS / "mut_first_layer_type_b.py").PixelCNN
    for seed in SEEDS:
        torch.manual_seed(seed)
        with pytest.raises(CheckFailed) as failure:
            rubric.test_sample_distribution(LocalSubmission(module))
        assert failure.value.message_id == "pixelcnn.sample.distribution"
        assert failure.value.params["hint_id"] == f"pixelcnn.sample.hint.{hint}", seed
        assert failure.value.params["model_id"] == "pixelcnn.sample.model.grader"


def test_correct_sampler_passes_on_the_graders_model():
    from tests.local_grading import LocalSubmission, load_trusted

    module = load_trusted(CORPUS / "correct_plain_stack.py")
    module.PixelCNN = load_trusted(CORPUS / "mut_first_layer_type_b.py").PixelCNN
    for seed in SEEDS:
        torch.manual_seed(seed)
        rubric.test_sample_distribution(LocalSubmission(module))
        rubric.test_sample_first_pixel(LocalSubmission(module))


class _StraightThrough(torch.nn.Module):
    """Value: the input itself (every output sees its own position). Gradient: a type-A masked conv's."""

    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(1, 1, 3, padding=1)
        with torch.no_grad():
            self.conv.weight.mul_(rubric.oracle.mask("A", 3))

    def forward(self, x):
        causal = self.conv(x)
        return x.detach() + (causal - causal.detach())


def test_dependencies_come_from_answers_not_from_autograd():
    from tests.local_grading import LocalSubmission, _Live

    sub = LocalSubmission(None)
    change, floor, _, batch = rubric.dependencies(sub, _Live(_StraightThrough()), rubric.binary(2, 1, 4, 4), 1,
                                                  "out", flip=True)
    seen = change[0, :, :, 0] > floor
    assert torch.equal(seen.reshape(16, 16), torch.eye(16, dtype=torch.bool))  # exactly its own pixel
    assert batch == 0.0


def test_dependencies_of_a_masked_convolution_are_exact_in_float32_and_float64():
    from tests.local_grading import LocalSubmission, _Live

    conv = torch.nn.Conv2d(2, 3, 3, padding=1)
    with torch.no_grad():
        conv.weight.mul_(rubric.oracle.mask("B", 3))
    expected = rubric.expected_dependencies("B", 3, 2, 3, 5)
    change, floor, _, _ = rubric.dependencies(LocalSubmission(None), _Live(conv), torch.randn(2, 2, 5, 5), 3,
                                              "out", flip=False)
    assert floor < 1e-8  # the layer took .double()
    assert torch.equal(change > floor, expected)
    assert conv.weight.dtype == torch.float32  # and was handed back as the student built it
    float32 = torch.nn.functional.conv2d(torch.randn(7, 2, 5, 5), conv.weight, conv.bias, padding=1)
    assert torch.isfinite(float32).all()
