"""Assignment: RealNVP (Dinh et al. 2017) and the Glow layers (Kingma & Dhariwal 2018) on MNIST.

Every invertible layer follows one convention: forward(x) -> (y, log_det) maps data
towards the latent, inverse(y) -> x maps back, and log_det (B,) is the log absolute
determinant of the Jacobian of forward, per sample.

Replace every `raise NotImplementedError(...)` with your code. The grader imports
this file, so code at the top level must only define things: training and plots
run under `if __name__ == "__main__":` (in a notebook, in the cells after the graded ones).
"""

# %% imports
import argparse
import gzip
import math
import os
from pathlib import Path

import numpy as np
import torch
from torch import nn

# %% hyperparameters
DIM = 784
HIDDEN_DIM = 256
N_LAYERS = 6
ALPHA = 0.05
BATCH_SIZE = 128
EPOCHS = 10
LEARNING_RATE = 1e-3
DATA_DIR = os.environ.get("GENGRADE_DATA")  # a folder with the four MNIST *-ubyte.gz files, or None to download
DEVICE = "cuda" if torch.cuda.is_available() else "cpu"
SEED = 0


# %% AffineCoupling
class AffineCoupling(nn.Module):
    """y = m * x + (1 - m) * (x * exp(s(m * x)) + t(m * x)) on (B, D), for a 0/1 mask m of shape (D,)."""

    def __init__(self, mask, hidden_dim=256):
        """Keep the mask as a buffer and build the network that maps m * x to the scale s and the shift t."""
        super().__init__()
        ### BEGIN SOLUTION
        self.register_buffer("mask", mask.float())
        dim = len(mask)
        self.conditioner = nn.Sequential(
            nn.Linear(dim, hidden_dim), nn.ReLU(),
            nn.Linear(hidden_dim, hidden_dim), nn.ReLU(),
            nn.Linear(hidden_dim, 2 * dim),
        )
        nn.init.zeros_(self.conditioner[-1].weight)  # start as the identity map
        nn.init.zeros_(self.conditioner[-1].bias)
        ### END SOLUTION

    def forward(self, x):
        """Return (y, log_det): mask-1 entries unchanged, the others scaled by exp(s) and shifted by t; log_det (B,)."""
        ### BEGIN SOLUTION
        kept = x * self.mask
        raw_scale, shift = self.conditioner(kept).chunk(2, dim=1)
        log_scale = torch.tanh(raw_scale) * (1 - self.mask)
        shift = shift * (1 - self.mask)
        y = kept + (1 - self.mask) * (x * torch.exp(log_scale) + shift)
        return y, log_scale.sum(dim=1)
        ### END SOLUTION

    def inverse(self, y):
        """Undo forward: recover x from y (s and t depend only on the unchanged entries)."""
        ### BEGIN SOLUTION
        kept = y * self.mask
        raw_scale, shift = self.conditioner(kept).chunk(2, dim=1)
        log_scale = torch.tanh(raw_scale) * (1 - self.mask)
        return kept + (1 - self.mask) * (y - shift) * torch.exp(-log_scale)
        ### END SOLUTION


# %% RealNVP
class RealNVP(nn.Module):
    """A stack of n_layers couplings on (B, dim) whose masks alternate, with a standard normal base."""

    def __init__(self, dim=784, hidden_dim=256, n_layers=6):
        """Build n_layers couplings whose masks alternate (m, 1 - m, m, ...) so every dimension is transformed."""
        super().__init__()
        ### BEGIN SOLUTION
        self.dim = dim
        checker = torch.arange(dim) % 2
        self.couplings = nn.ModuleList(
            [AffineCoupling(checker if k % 2 else 1 - checker, hidden_dim) for k in range(n_layers)]
        )
        ### END SOLUTION

    def forward(self, x):
        """Apply the couplings in order; return (z, log_det) with the log-dets of the layers added up, (B,)."""
        ### BEGIN SOLUTION
        total = torch.zeros(len(x), device=x.device, dtype=x.dtype)
        for coupling in self.couplings:
            x, layer_log_det = coupling(x)
            total = total + layer_log_det
        return x, total
        ### END SOLUTION

    def inverse(self, z):
        """Apply the inverses of the couplings in reverse order."""
        ### BEGIN SOLUTION
        for coupling in self.couplings[::-1]:
            z = coupling.inverse(z)
        return z
        ### END SOLUTION

    def log_prob(self, x):
        """Return log p(x) = log N(z; 0, I) + log_det for each sample, (B,), in nats."""
        ### BEGIN SOLUTION
        z, log_det = self(x)
        log_normal = -(z**2).sum(dim=1) / 2 - self.dim * math.log(2 * math.pi) / 2
        return log_normal + log_det
        ### END SOLUTION

    @torch.no_grad()
    def sample(self, n, device="cpu"):
        """Return n samples x = inverse(z), z ~ N(0, I): shape (n, dim)."""
        ### BEGIN SOLUTION
        return self.inverse(torch.randn(n, self.dim, device=device))
        ### END SOLUTION


# %% logit_transform
def logit_transform(x, alpha=0.05):
    """Return (y, log_det) for y = logit(alpha + (1 - 2 alpha) x), log_det summed per sample, (B,)."""
    ### BEGIN SOLUTION
    p = (1 - 2 * alpha) * x + alpha
    y = torch.log(p / (1 - p))
    log_det = math.log(1 - 2 * alpha) - torch.log(p * (1 - p))
    return y, log_det.reshape(len(x), -1).sum(dim=1)
    ### END SOLUTION


# %% bits_per_dim
def bits_per_dim(log_prob, dim):
    """Return (-log_prob + dim * log 256) / (dim * log 2): bits per dimension of the 8-bit data."""
    ### BEGIN SOLUTION
    nats = dim * math.log(256) - log_prob
    return nats / (dim * math.log(2))
    ### END SOLUTION


# %% ActNorm
class ActNorm(nn.Module):
    """y = (x + bias) * exp(log_scale) per channel on (B, C, H, W); the first forward call initialises from data."""

    def __init__(self, num_channels):
        """Create the per-channel bias and log-scale parameters and a flag that says whether they were initialised."""
        super().__init__()
        ### BEGIN SOLUTION
        self.bias = nn.Parameter(torch.zeros(1, num_channels, 1, 1))
        self.log_scale = nn.Parameter(torch.zeros(1, num_channels, 1, 1))
        self.register_buffer("ready", torch.tensor(False))
        ### END SOLUTION

    def forward(self, x):
        """On the first call set bias and log_scale so the output has zero mean and unit variance per channel; return (y, log_det)."""
        ### BEGIN SOLUTION
        if not self.ready:
            with torch.no_grad():
                self.bias.copy_(-x.mean(dim=(0, 2, 3), keepdim=True))
                self.log_scale.copy_(-x.std(dim=(0, 2, 3), keepdim=True, correction=0).add(1e-6).log())
                self.ready.fill_(True)
        y = (x + self.bias) * self.log_scale.exp()
        log_det = x.shape[2] * x.shape[3] * self.log_scale.sum()
        return y, log_det.repeat(len(x))
        ### END SOLUTION

    def inverse(self, y):
        """Undo forward."""
        ### BEGIN SOLUTION
        return y / self.log_scale.exp() - self.bias
        ### END SOLUTION


# %% InvertibleConv1x1
class InvertibleConv1x1(nn.Module):
    """y = W x at every pixel of (B, C, H, W), W a learned C x C matrix; log_det = H * W * log|det W|."""

    def __init__(self, num_channels):
        """Initialise W as a random rotation (an orthogonal matrix, e.g. from a QR decomposition)."""
        super().__init__()
        ### BEGIN SOLUTION
        rotation = torch.linalg.qr(torch.randn(num_channels, num_channels))[0]
        self.weight = nn.Parameter(rotation)
        ### END SOLUTION

    def forward(self, x):
        """Return (W x at every pixel, H * W * log|det W| per sample)."""
        ### BEGIN SOLUTION
        y = torch.einsum("ij,bjhw->bihw", self.weight, x)
        log_det = x.shape[2] * x.shape[3] * torch.linalg.slogdet(self.weight)[1]
        return y, log_det.repeat(len(x))
        ### END SOLUTION

    def inverse(self, y):
        """Undo forward with the inverse matrix."""
        ### BEGIN SOLUTION
        return torch.einsum("ij,bjhw->bihw", torch.linalg.inv(self.weight), y)
        ### END SOLUTION


# %% training
def load_mnist(data_dir=None, seed=SEED):
    """Dequantized MNIST (N, 784): (pixel + u) / 256 with u ~ U[0, 1), so the data have a density."""
    if data_dir:
        raw = gzip.decompress((Path(data_dir) / "train-images-idx3-ubyte.gz").read_bytes())
        pixels = torch.from_numpy(np.frombuffer(raw, dtype=np.uint8, offset=16).reshape(-1, 784).copy())
    else:
        from torchvision import datasets

        pixels = datasets.MNIST(Path.home() / ".cache" / "mnist", train=True, download=True).data.reshape(-1, 784)
    noise = torch.rand(pixels.shape, generator=torch.Generator().manual_seed(seed))
    return (pixels.float() + noise) / 256


def train(model, images, epochs=EPOCHS, batch_size=BATCH_SIZE, lr=LEARNING_RATE, device=DEVICE):
    """Maximum likelihood (not MSE): minimise the mean negative log-likelihood; prints bits/dim per epoch."""
    model.to(device).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    loader = torch.utils.data.DataLoader(images, batch_size=batch_size, shuffle=True)
    for epoch in range(epochs):
        total = 0.0
        for x in loader:
            y, log_det_logit = logit_transform(x.to(device), ALPHA)
            log_prob = model.log_prob(y) + log_det_logit  # density of the [0, 1] data
            loss = -log_prob.mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += bits_per_dim(log_prob, DIM).sum().item()
        print(f"epoch {epoch + 1}: {total / len(images):.3f} bits/dim")
    return model


def show_samples(model, n=64, device=DEVICE):
    """Plot n samples mapped back to [0, 1] through the inverse of the logit transform."""
    import matplotlib.pyplot as plt

    y = model.eval().sample(n, device=device).cpu()
    images = ((torch.sigmoid(y) - ALPHA) / (1 - 2 * ALPHA)).clamp(0, 1).reshape(n, 28, 28)
    side = int(n**0.5)
    grid = images[: side * side].reshape(side, side, 28, 28).permute(0, 2, 1, 3).reshape(side * 28, side * 28)
    plt.imshow(grid, cmap="gray")
    plt.axis("off")
    plt.show()


# %% run
if __name__ == "__main__":  # in a notebook this cell runs only when you run it; the grader never does
    parser = argparse.ArgumentParser(description="Train RealNVP on dequantized MNIST and plot samples.")
    parser.add_argument("--data-dir", default=DATA_DIR, help="folder with the MNIST *-ubyte.gz files")
    args, _ = parser.parse_known_args()  # known args only: Jupyter passes its own
    torch.manual_seed(SEED)
    flow = train(RealNVP(DIM, HIDDEN_DIM, N_LAYERS), load_mnist(args.data_dir))
    show_samples(flow)
