"""reference.data on tiny fake MNIST folders written in the real idx format."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest
import torch

from reference import data


def write_idx(path: Path, array: np.ndarray, magic: int) -> None:
    """An idx file as in the MNIST distribution: big-endian header, then uint8 data."""
    header = struct.pack(f">{1 + array.ndim}I", magic, *array.shape)
    path.write_bytes(gzip.compress(header + array.astype(np.uint8).tobytes()))


def write_fake_mnist(folder: Path, n_train: int = 48, n_test: int = 16, size: int = 8, seed: int = 0) -> dict:
    """The four MNIST files with random images of ``size x size``; returns the arrays."""
    rng = np.random.default_rng(seed)
    arrays = {
        "train_images": rng.integers(0, 256, (n_train, size, size), dtype=np.uint8),
        "train_labels": rng.integers(0, 10, n_train, dtype=np.uint8),
        "test_images": rng.integers(0, 256, (n_test, size, size), dtype=np.uint8),
        "test_labels": rng.integers(0, 10, n_test, dtype=np.uint8),
    }
    folder.mkdir(parents=True, exist_ok=True)
    for key, name in data.FILES.items():
        magic = data.IMAGES_MAGIC if key.endswith("images") else data.LABELS_MAGIC
        write_idx(folder / name, arrays[key], magic)
    return arrays


def test_round_trip(tmp_path):
    arrays = write_fake_mnist(tmp_path, size=5)
    loaded = data.load_mnist_uint8(tmp_path)
    for key, array in arrays.items():
        np.testing.assert_array_equal(loaded[key], array)
    assert loaded["train_images"].shape == (48, 5, 5)


def test_images_file_with_labels_magic_is_rejected(tmp_path):
    path = tmp_path / "x.gz"
    write_idx(path, np.zeros((2, 3, 3)), data.LABELS_MAGIC)
    with pytest.raises(data.IdxFormatError, match="magic number 2049, expected 2051"):
        data.read_images(path)


def test_truncated_file_is_rejected(tmp_path):
    path = tmp_path / "x.gz"
    header = struct.pack(">4I", data.IMAGES_MAGIC, 2, 3, 3)
    path.write_bytes(gzip.compress(header + bytes(17)))  # one byte short of 2 * 3 * 3
    with pytest.raises(data.IdxFormatError, match="header .* needs 34"):
        data.read_images(path)


def test_image_and_label_counts_must_agree(tmp_path):
    write_fake_mnist(tmp_path)
    write_idx(tmp_path / data.FILES["test_labels"], np.zeros(3), data.LABELS_MAGIC)
    with pytest.raises(data.IdxFormatError, match="test images and labels"):
        data.load_mnist_uint8(tmp_path)


def test_missing_files_error_names_folder_and_files(tmp_path):
    write_fake_mnist(tmp_path)
    (tmp_path / data.FILES["train_labels"]).unlink()
    (tmp_path / data.FILES["test_images"]).unlink()
    with pytest.raises(FileNotFoundError) as info:
        data.load_splits("vae", tmp_path)
    assert isinstance(info.value, data.MnistFilesMissing)
    message = str(info.value)
    assert str(tmp_path) in message
    assert "train-labels-idx1-ubyte.gz" in message and "t10k-images-idx3-ubyte.gz" in message
    assert info.value.missing == [data.FILES["train_labels"], data.FILES["test_images"]]


def test_environment_variable_is_used_without_argument(tmp_path, monkeypatch):
    write_fake_mnist(tmp_path / "env")
    monkeypatch.setenv(data.DATA_ENV, str(tmp_path / "env"))
    assert data.resolve_data_dir() == tmp_path / "env"
    assert data.resolve_data_dir(tmp_path / "arg") == tmp_path / "arg"


def test_download_only_without_argument_or_variable(tmp_path, monkeypatch):
    monkeypatch.delenv(data.DATA_ENV, raising=False)
    monkeypatch.setattr(data, "_download", lambda cache: cache / "MNIST" / "raw")
    assert data.resolve_data_dir(cache_dir=tmp_path) == tmp_path / "MNIST" / "raw"


@pytest.fixture
def folder(tmp_path):
    write_fake_mnist(tmp_path, n_train=60, n_test=20, size=6)
    return tmp_path


def test_splits_are_disjoint_and_validation_is_the_tail(folder):
    raw = data.load_mnist_uint8(folder)["train_images"]
    splits = data.load_splits("vae", folder)
    assert (len(splits.train), len(splits.val), len(splits.test)) == (50, 10, 20)
    expected_val = torch.from_numpy(raw[-10:].astype(np.float32) / 255).unsqueeze(1)
    torch.testing.assert_close(splits.val, expected_val)
    assert splits.image_shape == (1, 6, 6)


def test_limits_keep_the_first_images_and_their_draws(folder):
    full = data.load_splits("pixelcnn", folder, seed=3)
    limited = data.load_splits("pixelcnn", folder, seed=3, limit_train=7, limit_eval=4)
    assert (len(limited.train), len(limited.val), len(limited.test)) == (7, 4, 4)
    assert torch.equal(limited.train, full.train[:7]) and torch.equal(limited.test, full.test[:4])


@pytest.mark.parametrize(
    "family, low, high, shape",
    [
        ("gan", -1.0, 1.0, (50, 1, 6, 6)),
        ("vae", 0.0, 1.0, (50, 1, 6, 6)),
        ("pixelcnn", 0.0, 1.0, (50, 1, 6, 6)),
        ("pixelrnn", 0.0, 1.0, (50, 1, 6, 6)),
        ("realnvp", 0.0, 1.0, (50, 36)),
    ],
)
def test_family_scaling_range_and_shape(folder, family, low, high, shape):
    x = data.load_splits(family, folder).train
    assert x.shape == shape and x.dtype == torch.float32
    assert x.min() >= low and x.max() <= high
    if family == "realnvp":
        assert x.max() < 1.0  # dequantized data lie in [0, 1)


def test_gan_scaling_hits_both_ends():
    images = torch.tensor([0, 255], dtype=torch.uint8).view(2, 1, 1, 1)
    assert data.scale(images, "gan", torch.Generator()).flatten().tolist() == [-1.0, 1.0]


def test_binarization_is_binary_seeded_and_follows_grey_level():
    images = torch.full((4000, 1, 1, 1), 64, dtype=torch.uint8)
    a = data.scale(images, "pixelcnn", torch.Generator().manual_seed(1))
    b = data.scale(images, "pixelcnn", torch.Generator().manual_seed(1))
    assert torch.equal(a, b)
    assert set(a.unique().tolist()) == {0.0, 1.0}
    assert abs(a.mean().item() - 64 / 255) < 0.03  # ~4 standard errors of a Bernoulli(0.25) mean


def test_dequantization_stays_in_its_pixel_bin():
    # 512,000 draws: enough that float32 rounds some (k + u) / 256 onto the next bin's edge.
    images = torch.arange(256, dtype=torch.uint8).repeat(2000).view(-1, 1, 16, 16)
    x = data.scale(images, "realnvp", torch.Generator().manual_seed(0))
    assert torch.equal(torch.floor(x * 256).view_as(images).to(torch.uint8), images)


def test_unknown_family_is_rejected(folder):
    with pytest.raises(ValueError, match="unknown model family"):
        data.load_splits("diffusion", folder)
