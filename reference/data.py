"""MNIST for the reference models: read the four original idx files, scale per family.

The files are parsed directly (gzip + numpy) so that a course machine with the files
on disk needs neither torchvision nor a network. Where the folder comes from, first hit wins:
the ``data_dir`` argument, the ``GENGRADE_DATA`` environment variable, and only then a
torchvision download into a cache folder.

Scalings, one per model family (each assignment's contract fixes its own):

- ``gan``: ``[-1, 1]``, matching the generator's ``tanh``;
- ``vae``: ``[0, 1]`` grey levels, the Bernoulli decoder's targets;
- ``pixelcnn`` / ``pixelrnn``: ``{0, 1}`` by *fixed stochastic binarization*: each pixel
  is 1 with probability equal to its grey level, drawn once from ``seed``. This is how
  the binarized MNIST of the PixelRNN/PixelCNN papers was made (Salakhutdinov & Murray
  2008), so nats per image are comparable with theirs; a 0.5 threshold gives an
  easier, incomparable data set.
- ``realnvp``: dequantized ``(x_8bit + u) / 256`` with ``u ~ U[0, 1)`` drawn once from
  ``seed``, flattened to ``(N, H * W)``. A fixed draw keeps test bits/dim reproducible.
"""

from __future__ import annotations

import gzip
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

FAMILIES = ("gan", "vae", "pixelcnn", "pixelrnn", "realnvp")
DATA_ENV = "GENGRADE_DATA"
FILES = {
    "train_images": "train-images-idx3-ubyte.gz",
    "train_labels": "train-labels-idx1-ubyte.gz",
    "test_images": "t10k-images-idx3-ubyte.gz",
    "test_labels": "t10k-labels-idx1-ubyte.gz",
}
IMAGES_MAGIC = 2051  # idx3, unsigned bytes
LABELS_MAGIC = 2049  # idx1, unsigned bytes
DEFAULT_CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "gengrade"


class MnistFilesMissing(FileNotFoundError):
    """The data folder lacks some of the four MNIST files; the message names them all."""

    def __init__(self, folder: Path, missing: list[str]):
        self.folder, self.missing = folder, missing
        super().__init__(
            f"MNIST folder {folder} lacks {', '.join(missing)}; it needs the four original "
            f"files ({', '.join(FILES.values())}). Pass --data-dir or set {DATA_ENV}."
        )


class IdxFormatError(ValueError):
    """An idx file whose header does not match what MNIST files contain."""


def _read_idx(path: Path, magic: int, n_dims: int) -> np.ndarray:
    raw = gzip.decompress(path.read_bytes())
    header_len = 4 * (1 + n_dims)
    if len(raw) < header_len:
        raise IdxFormatError(f"{path}: {len(raw)} bytes, shorter than its header")
    header = np.frombuffer(raw, dtype=">u4", count=1 + n_dims)
    if header[0] != magic:
        raise IdxFormatError(f"{path}: magic number {header[0]}, expected {magic}")
    shape = tuple(int(d) for d in header[1:])
    expected = header_len + int(np.prod(shape))
    if len(raw) != expected:
        raise IdxFormatError(f"{path}: {len(raw)} bytes, header {shape} needs {expected}")
    return np.frombuffer(raw, dtype=np.uint8, offset=header_len).reshape(shape)


def read_images(path: Path) -> np.ndarray:
    """``(N, rows, cols)`` uint8 from an idx3 ``.gz`` file (magic 2051)."""
    return _read_idx(Path(path), IMAGES_MAGIC, 3)


def read_labels(path: Path) -> np.ndarray:
    """``(N,)`` uint8 from an idx1 ``.gz`` file (magic 2049)."""
    return _read_idx(Path(path), LABELS_MAGIC, 1)


def _download(cache_dir: Path) -> Path:
    """Fetch MNIST with torchvision; it keeps the original ``.gz`` files in ``raw/``."""
    from torchvision.datasets import MNIST

    for train in (True, False):
        MNIST(root=str(cache_dir), train=train, download=True)
    return cache_dir / "MNIST" / "raw"


def resolve_data_dir(data_dir: str | Path | None = None, cache_dir: str | Path | None = None) -> Path:
    """The folder to read: the argument, else ``$GENGRADE_DATA``, else a download."""
    chosen = data_dir if data_dir is not None else os.environ.get(DATA_ENV) or None
    if chosen is not None:
        return Path(chosen)
    return _download(Path(cache_dir) if cache_dir is not None else DEFAULT_CACHE)


def load_mnist_uint8(folder: Path) -> dict[str, np.ndarray]:
    """The four arrays named as in ``FILES``, after checking images and labels agree."""
    folder = Path(folder)
    missing = [name for name in FILES.values() if not (folder / name).is_file()]
    if missing:
        raise MnistFilesMissing(folder, missing)
    arrays = {
        key: (read_images if key.endswith("images") else read_labels)(folder / name)
        for key, name in FILES.items()
    }
    for split in ("train", "test"):
        if len(arrays[f"{split}_images"]) != len(arrays[f"{split}_labels"]):
            raise IdxFormatError(f"{folder}: {split} images and labels differ in count")
    return arrays


def scale(images: torch.Tensor, family: str, generator: torch.Generator) -> torch.Tensor:
    """uint8 ``(N, 1, H, W)`` to float32 in the family's range (see the module docstring)."""
    x = images.float() / 255.0
    if family == "gan":
        return x * 2.0 - 1.0
    if family == "vae":
        return x
    if family in ("pixelcnn", "pixelrnn"):
        return torch.bernoulli(x, generator=generator)
    if family == "realnvp":
        u = torch.rand(images.shape, generator=generator)
        x = (images.float() + u) / 256.0
        # float32 rounds (k + u) / 256 up to (k + 1) / 256 for u close to 1: keep each
        # value inside its own pixel's bin [k / 256, (k + 1) / 256), hence in [0, 1).
        bin_end = (images.float() + 1.0) / 256.0
        return torch.minimum(x, torch.nextafter(bin_end, torch.zeros(()))).flatten(1)
    raise ValueError(f"unknown model family {family!r}; expected one of {FAMILIES}")


@dataclass(frozen=True)
class Splits:
    """Scaled float32 tensors; ``image_shape`` is ``(1, H, W)`` even when flattened."""

    train: torch.Tensor
    val: torch.Tensor
    test: torch.Tensor
    image_shape: tuple[int, int, int]


def load_splits(
    family: str,
    data_dir: str | Path | None = None,
    *,
    seed: int = 0,
    val_fraction: float = 1 / 6,
    limit_train: int | None = None,
    limit_eval: int | None = None,
    cache_dir: str | Path | None = None,
) -> Splits:
    """Train / validation / test for one family.

    The validation split is the last ``val_fraction`` of the training file (10,000 of
    60,000 by default), so it never overlaps the training split. ``limit_train`` keeps
    the first images of the training split, ``limit_eval`` the first of validation
    and test: for short runs on a CPU.
    """
    if family not in FAMILIES:
        raise ValueError(f"unknown model family {family!r}; expected one of {FAMILIES}")
    arrays = load_mnist_uint8(resolve_data_dir(data_dir, cache_dir))
    # Scale whole files before slicing, so a limit never changes which draws an image gets.
    generator = torch.Generator().manual_seed(seed)
    train_all = scale(torch.from_numpy(arrays["train_images"].copy()).unsqueeze(1), family, generator)
    test = scale(torch.from_numpy(arrays["test_images"].copy()).unsqueeze(1), family, generator)
    n_val = int(round(len(train_all) * val_fraction))
    if not 0 < n_val < len(train_all):
        raise ValueError(f"val_fraction {val_fraction} leaves no train or no validation images")
    rows, cols = arrays["train_images"].shape[1:]
    return Splits(
        train=train_all[:-n_val][:limit_train].clone(),  # clones let the full files go
        val=train_all[-n_val:][:limit_eval].clone(),
        test=test[:limit_eval].clone(),
        image_shape=(1, rows, cols),
    )
