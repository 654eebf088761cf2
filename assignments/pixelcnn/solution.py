"""Assignment: PixelCNN (van den Oord et al. 2016) on binarized MNIST.

Replace every `raise NotImplementedError(...)` with your code. The grader imports
this file, so code at the top level must only define things: training and plots
run under `if __name__ == "__main__":` (in a notebook, in the cells after the graded ones).
"""

# %% imports
import argparse
import gzip
import os
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

# %% hyperparameters
CHANNELS = 64
N_LAYERS = 7
KERNEL_SIZE = 7
BATCH_SIZE = 128
EPOCHS = 5
LEARNING_RATE = 1e-3
DATA_DIR = os.environ.get("GENGRADE_DATA")  # a folder with the four MNIST *-ubyte.gz files, or None to download
DEVICE = "cuda" if torch.cuda.is_available() else "cpu"
SEED = 0


# %% MaskedConv2d
class MaskedConv2d(nn.Conv2d):
    """nn.Conv2d whose kernel only sees pixels before the centre in raster order (and the centre for type B)."""

    def __init__(self, mask_type, in_channels, out_channels, kernel_size, **conv_kwargs):
        """Build the conv layer, then register a buffer `mask` shaped like the weight: type "A" hides the centre, "B" keeps it."""
        super().__init__(in_channels, out_channels, kernel_size, **conv_kwargs)
        ### BEGIN SOLUTION
        assert mask_type in ("A", "B"), "mask_type is 'A' or 'B'"
        rows, cols = self.weight.shape[2], self.weight.shape[3]
        centre_row, centre_col = rows // 2, cols // 2
        mask = torch.zeros_like(self.weight)
        mask[:, :, :centre_row, :] = 1
        mask[:, :, centre_row, :centre_col] = 1
        if mask_type == "B":
            mask[:, :, centre_row, centre_col] = 1
        self.register_buffer("mask", mask)
        ### END SOLUTION

    def forward(self, x):
        """Convolve with the masked weight (weight * mask), on every call."""
        ### BEGIN SOLUTION
        masked_weight = self.weight * self.mask
        return F.conv2d(x, masked_weight, self.bias, self.stride, self.padding, self.dilation, self.groups)
        ### END SOLUTION


# %% PixelCNN
class PixelCNN(nn.Module):
    """A type-A masked layer, then type-B layers, then 1x1 layers to one Bernoulli logit per pixel."""

    def __init__(self, in_channels=1, channels=64, n_layers=7, kernel_size=7):
        """Build the stack: one type-A layer first, type-B layers after it, padding that keeps H and W."""
        super().__init__()
        ### BEGIN SOLUTION
        layers = [MaskedConv2d("A", in_channels, channels, kernel_size, padding=kernel_size // 2)]
        for _ in range(n_layers):
            layers += [nn.ReLU(), MaskedConv2d("B", channels, channels, 3, padding=1)]
        layers += [nn.ReLU(), MaskedConv2d("B", channels, in_channels, 1)]
        self.net = nn.Sequential(*layers)
        ### END SOLUTION

    def forward(self, x):
        """Map x (B, 1, H, W) to Bernoulli logits (B, 1, H, W): raw logits, no sigmoid."""
        ### BEGIN SOLUTION
        return self.net(x)
        ### END SOLUTION


# %% nll
def nll(model, x):
    """Return the mean over the batch of each image's negative log-likelihood in nats (summed over pixels), a 0-dim tensor."""
    ### BEGIN SOLUTION
    per_pixel = F.binary_cross_entropy_with_logits(model(x), x, reduction="none")
    return per_pixel.reshape(len(x), -1).sum(dim=1).mean()
    ### END SOLUTION


# %% sample
@torch.no_grad()
def sample(model, n, shape=(1, 28, 28), device="cpu"):
    """Draw n images pixel by pixel in raster order, each pixel ~ Bernoulli(sigmoid(logit)); values in {0., 1.}."""
    ### BEGIN SOLUTION
    images = torch.zeros(n, *shape, device=device)
    for row in range(shape[1]):
        for col in range(shape[2]):
            probabilities = torch.sigmoid(model(images)[:, :, row, col])
            images[:, :, row, col] = torch.bernoulli(probabilities)
    return images
    ### END SOLUTION


# %% training
def load_mnist(data_dir=None):
    """Binarized MNIST training images (N, 1, 28, 28) in {0, 1}: each pixel is 1 with probability its grey level."""
    if data_dir:
        raw = gzip.decompress((Path(data_dir) / "train-images-idx3-ubyte.gz").read_bytes())
        pixels = torch.from_numpy(np.frombuffer(raw, dtype=np.uint8, offset=16).reshape(-1, 1, 28, 28).copy())
    else:
        from torchvision import datasets

        pixels = datasets.MNIST(Path.home() / ".cache" / "mnist", train=True, download=True).data.unsqueeze(1)
    return torch.bernoulli(pixels.float() / 255)  # binary data: no [-1, 1] normalisation


def train(model, images, epochs=EPOCHS, batch_size=BATCH_SIZE, lr=LEARNING_RATE, device=DEVICE):
    """Adam on the NLL; prints nats per image after each epoch."""
    model.to(device).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    loader = torch.utils.data.DataLoader(images, batch_size=batch_size, shuffle=True)
    for epoch in range(epochs):
        total = 0.0
        for x in loader:
            loss = nll(model, x.to(device))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(x)
        print(f"epoch {epoch + 1}: NLL {total / len(images):.2f} nats per image")
    return model


def show_samples(model, n=16, device=DEVICE):
    """Plot n sampled images in a grid (784 forward passes: slow on a CPU)."""
    import matplotlib.pyplot as plt

    images = sample(model.eval(), n, device=device).reshape(n, 28, 28).cpu()
    side = int(n**0.5)
    grid = images[: side * side].reshape(side, side, 28, 28).permute(0, 2, 1, 3).reshape(side * 28, side * 28)
    plt.imshow(grid, cmap="gray")
    plt.axis("off")
    plt.show()


# %% run
if __name__ == "__main__":  # in a notebook this cell runs only when you run it; the grader never does
    parser = argparse.ArgumentParser(description="Train the PixelCNN on binarized MNIST and plot samples.")
    parser.add_argument("--data-dir", default=DATA_DIR, help="folder with the MNIST *-ubyte.gz files")
    args, _ = parser.parse_known_args()  # known args only: Jupyter passes its own
    torch.manual_seed(SEED)
    pixelcnn = train(PixelCNN(1, CHANNELS, N_LAYERS, KERNEL_SIZE), load_mnist(args.data_dir))
    show_samples(pixelcnn)
