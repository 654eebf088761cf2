"""``python -m reference.train`` end to end, in-process, on a fake 8x8 MNIST folder."""

from __future__ import annotations

import json
import math

import pytest
import torch
from PIL import Image

from reference import train
from tests.reference.test_data import write_fake_mnist

TINY = {
    "gan": ["latent_dim=4"],
    "vae": ["hidden_dim=8", "latent_dim=2"],
    "pixelcnn": ["channels=8", "n_layers=2", "kernel_size=3"],
    "pixelrnn": ["hidden_channels=4", "n_layers=1"],
    "realnvp": ["hidden_dim=8", "n_layers=2"],
}
TEST_KEYS = {
    "gan": {"parzen_ll", "parzen_stderr", "parzen_sigma"},
    "vae": {"neg_elbo", "neg_iwae"},
    "pixelcnn": {"nll"},
    "pixelrnn": {"nll"},
    "realnvp": {"bits_per_dim"},
}


@pytest.fixture(scope="module")
def mnist_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("mnist")
    write_fake_mnist(folder, n_train=64, n_test=16, size=8)
    return folder


def argv(model: str, mnist_dir, out, *extra: str, model_args: list[str] | None = None) -> list[str]:
    args = [model, "--data-dir", str(mnist_dir), "--out", str(out), "--device", "cpu", "--batch-size", "16",
            "--n-samples", "4", "--parzen-samples", "40", "--iwae-k", "3"]
    for model_arg in TINY[model] if model_args is None else model_args:
        args += ["--model-arg", model_arg]
    return args + list(extra)


@pytest.mark.parametrize("model", list(TINY))
def test_one_epoch_writes_checkpoint_samples_and_metrics(model, mnist_dir, tmp_path):
    history = train.main(argv(model, mnist_dir, tmp_path, "--epochs", "1"))

    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint.pt", "metrics.json", "samples_epoch001.png"]
    with Image.open(tmp_path / "samples_epoch001.png") as png:
        assert png.format == "PNG" and min(png.size) >= 8
    written = json.loads((tmp_path / "metrics.json").read_text())
    assert written["epochs"] == history and len(history) == 1
    entry = history[0]
    assert entry["epoch"] == 1 and entry["train_seconds"] > 0
    assert set(entry["test"]) == TEST_KEYS[model]
    assert all(math.isfinite(v) for v in [*entry["test"].values(), *entry["train_loss"].values()])
    ckpt = torch.load(tmp_path / "checkpoint.pt", weights_only=True)
    assert ckpt["epoch"] == 1 and ckpt["config"]["model"] == model


def test_pixelrnn_diagonal_kind_trains(mnist_dir, tmp_path):
    train.main(argv("pixelrnn", mnist_dir, tmp_path, "--epochs", "1",
                    model_args=["hidden_channels=4", "n_layers=1", "kind=diagonal"]))
    assert torch.load(tmp_path / "checkpoint.pt", weights_only=True)["config"]["model_kwargs"]["kind"] == "diagonal"


@pytest.mark.parametrize("model", list(TINY))
def test_resume_continues_as_an_unbroken_run(model, mnist_dir, tmp_path):
    straight = train.main(argv(model, mnist_dir, tmp_path / "straight", "--epochs", "2"))
    first = train.main(argv(model, mnist_dir, tmp_path / "resumed", "--epochs", "1"))
    resumed = train.main(argv(model, mnist_dir, tmp_path / "resumed", "--epochs", "2", "--resume"))

    assert [e["epoch"] for e in resumed] == [1, 2]
    assert resumed[0] == first[0]  # history comes from the checkpoint, not a rerun
    assert resumed[1]["train_loss"] == straight[1]["train_loss"]
    assert resumed[1]["test"] == straight[1]["test"]
    a = torch.load(tmp_path / "straight" / "checkpoint.pt", weights_only=True)
    b = torch.load(tmp_path / "resumed" / "checkpoint.pt", weights_only=True)
    assert b["epoch"] == 2
    torch.testing.assert_close(b["models"], a["models"], rtol=0, atol=0)
    torch.testing.assert_close(b["optimizers"], a["optimizers"], rtol=0, atol=0)
    assert torch.equal(b["rng"]["torch"], a["rng"]["torch"])


def test_resume_refuses_a_different_model(mnist_dir, tmp_path):
    train.main(argv("vae", mnist_dir, tmp_path, "--epochs", "1"))
    with pytest.raises(ValueError, match="model_kwargs"):
        train.main(argv("vae", mnist_dir, tmp_path, "--epochs", "2", "--resume",
                        model_args=["hidden_dim=9", "latent_dim=2"]))


def test_resume_without_checkpoint_is_an_error(mnist_dir, tmp_path):
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        train.main(argv("vae", mnist_dir, tmp_path, "--epochs", "1", "--resume"))


def test_max_minutes_stops_after_the_first_epoch(mnist_dir, tmp_path):
    history = train.main(argv("vae", mnist_dir, tmp_path, "--epochs", "3", "--max-minutes", "0"))
    assert [e["epoch"] for e in history] == [1]


def test_model_arg_parses_literals_and_bare_words():
    assert train._model_arg("channels=32") == ("channels", 32)
    assert train._model_arg("kind=diagonal") == ("kind", "diagonal")
    with pytest.raises(Exception, match="KEY=VALUE"):
        train._model_arg("channels")
