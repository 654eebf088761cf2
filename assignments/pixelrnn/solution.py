"""Assignment: PixelRNN (van den Oord et al. 2016), Row LSTM and Diagonal BiLSTM, on binarized MNIST.

Replace every `raise NotImplementedError(...)` with your code. The grader imports
this file, so code at the top level must only define things: training and plots
run under `if __name__ == "__main__":` (in a notebook, in the cells after the graded ones).
This file is self-contained: do not import your pixelcnn.py.
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
HIDDEN_CHANNELS = 32
N_LAYERS = 2
KIND = "row"  # or "diagonal"
BATCH_SIZE = 64
EPOCHS = 2
LEARNING_RATE = 1e-3
DATA_DIR = os.environ.get("GENGRADE_DATA")  # a folder with the four MNIST *-ubyte.gz files, or None to download
DEVICE = "cuda" if torch.cuda.is_available() else "cpu"
SEED = 0


# %% MaskedConv2d
class MaskedConv2d(nn.Conv2d):
    """nn.Conv2d whose kernel only sees positions before the centre in raster order (and the centre for type B)."""

    def __init__(self, mask_type, in_channels, out_channels, kernel_size, **conv_kwargs):
        """Build the conv layer, then register a buffer `mask` shaped like the weight: type "A" hides the centre, "B" keeps it."""
        super().__init__(in_channels, out_channels, kernel_size, **conv_kwargs)
        ### BEGIN SOLUTION
        rows, cols = self.weight.shape[2], self.weight.shape[3]
        mask = torch.zeros_like(self.weight)
        mask[:, :, : rows // 2, :] = 1
        mask[:, :, rows // 2, : cols // 2 + (mask_type == "B")] = 1
        self.register_buffer("mask", mask)
        ### END SOLUTION

    def forward(self, x):
        """Convolve with the masked weight (weight * mask), on every call."""
        ### BEGIN SOLUTION
        return F.conv2d(x, self.weight * self.mask, self.bias, self.stride, self.padding, self.dilation, self.groups)
        ### END SOLUTION


# %% RowLSTM
def lstm_update(gates, c):
    """One LSTM step from the stacked pre-activations (input, forget, output, candidate): returns (h, c)."""
    i, f, o, g = gates.chunk(4, dim=1)
    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c), c


class RowLSTM(nn.Module):
    """Row LSTM: (B, in_channels, H, W) -> (B, hidden_channels, H, W), computed one row at a time."""

    def __init__(self, in_channels, hidden_channels, kernel_size=3):
        """Build a 1 x k mask-B input-to-state convolution and a width-k 1-D state-to-state convolution (4 gates each)."""
        super().__init__()
        self.hidden_channels = hidden_channels
        ### BEGIN SOLUTION
        self.input_to_state = MaskedConv2d("B", in_channels, 4 * hidden_channels, (1, kernel_size),
                                           padding=(0, kernel_size // 2))
        self.state_to_state = nn.Conv1d(hidden_channels, 4 * hidden_channels, kernel_size, padding=kernel_size // 2)
        ### END SOLUTION

    def forward(self, x):
        """Run the rows top to bottom: row i's gates = input-to-state of row i + state-to-state of h from row i - 1."""
        ### BEGIN SOLUTION
        gates_x = self.input_to_state(x)
        h = x.new_zeros(x.shape[0], self.hidden_channels, x.shape[3])
        c = torch.zeros_like(h)
        rows = []
        for i in range(x.shape[2]):
            h, c = lstm_update(gates_x[:, :, i] + self.state_to_state(h), c)
            rows.append(h)
        return torch.stack(rows, dim=2)
        ### END SOLUTION


# %% skew
def skew(x):
    """Return x (B, C, H, W) as (B, C, H, W + H - 1) with row i shifted right by i and zeros elsewhere."""
    ### BEGIN SOLUTION
    height, width = x.shape[2], x.shape[3]
    out = x.new_zeros(x.shape[0], x.shape[1], height, width + height - 1)
    for i in range(height):
        out[:, :, i, i:i + width] = x[:, :, i]
    return out
    ### END SOLUTION


# %% unskew
def unskew(x):
    """Undo skew exactly: (B, C, H, W + H - 1) -> (B, C, H, W)."""
    ### BEGIN SOLUTION
    height = x.shape[2]
    width = x.shape[3] - height + 1
    return torch.stack([x[:, :, i, i:i + width] for i in range(height)], dim=2)
    ### END SOLUTION


# %% DiagonalBiLSTM
class DiagonalLSTM(nn.Module):
    """One direction of the Diagonal BiLSTM: on the skewed map, state (i, j) reads states (i - 1, j) and (i, j - 1)."""

    def __init__(self, in_channels, hidden_channels):
        """Build a 1 x 1 input-to-state convolution and a 2 x 1 state-to-state convolution (4 gates each)."""
        super().__init__()
        self.hidden_channels = hidden_channels
        ### BEGIN SOLUTION
        self.input_to_state = nn.Conv2d(in_channels, 4 * hidden_channels, 1)
        self.state_to_state = nn.Conv1d(hidden_channels, 4 * hidden_channels, 2)
        ### END SOLUTION

    def forward(self, x):
        """Skew x, run the LSTM column by column (the 2 x 1 convolution over the previous column, padded on top), unskew."""
        ### BEGIN SOLUTION
        gates_x = self.input_to_state(skew(x))
        h = x.new_zeros(x.shape[0], self.hidden_channels, x.shape[2])
        c = torch.zeros_like(h)
        columns = []
        for col in range(gates_x.shape[3]):
            h, c = lstm_update(gates_x[:, :, :, col] + self.state_to_state(F.pad(h, (1, 0))), c)
            columns.append(h)
        return unskew(torch.stack(columns, dim=3))
        ### END SOLUTION


class DiagonalBiLSTM(nn.Module):
    """Left-to-right plus right-to-left Diagonal LSTM; the right-to-left output is shifted down one row."""

    def __init__(self, in_channels, hidden_channels):
        """Build the two directions."""
        super().__init__()
        ### BEGIN SOLUTION
        self.left_to_right = DiagonalLSTM(in_channels, hidden_channels)
        self.right_to_left = DiagonalLSTM(in_channels, hidden_channels)
        ### END SOLUTION

    def forward(self, x):
        """Add the left-to-right output and the right-to-left output (run on x flipped left-right, flipped back, shifted down)."""
        ### BEGIN SOLUTION
        left = self.left_to_right(x)
        right = self.right_to_left(x.flip(3)).flip(3)
        right = F.pad(right, (0, 0, 1, 0))[:, :, :-1]
        return left + right
        ### END SOLUTION


# %% PixelRNN
class PixelRNN(nn.Module):
    """A 7 x 7 mask-A convolution, n_layers Row LSTM or Diagonal BiLSTM layers, then 1 x 1 layers to Bernoulli logits."""

    def __init__(self, in_channels=1, hidden_channels=32, n_layers=2, kind="row"):
        """Build the network; kind is "row" (RowLSTM layers) or "diagonal" (DiagonalBiLSTM layers)."""
        super().__init__()
        ### BEGIN SOLUTION
        layer = {"row": RowLSTM, "diagonal": DiagonalBiLSTM}[kind]
        self.input_conv = MaskedConv2d("A", in_channels, hidden_channels, 7, padding=3)
        self.layers = nn.ModuleList(layer(hidden_channels, hidden_channels) for _ in range(n_layers))
        self.head = nn.Sequential(nn.ReLU(), nn.Conv2d(hidden_channels, hidden_channels, 1), nn.ReLU(),
                                  nn.Conv2d(hidden_channels, in_channels, 1))
        ### END SOLUTION

    def forward(self, x):
        """Map x (B, 1, H, W) to Bernoulli logits (B, 1, H, W): raw logits, no sigmoid."""
        ### BEGIN SOLUTION
        h = self.input_conv(x)
        for layer in self.layers:
            h = h + layer(h)
        return self.head(h)
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
    """Adam on the NLL; prints nats per image after each epoch (LSTMs are sequential: slow on a CPU)."""
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
    """Plot n sampled images in a grid (784 forward passes)."""
    import matplotlib.pyplot as plt

    images = sample(model.eval(), n, device=device).reshape(n, 28, 28).cpu()
    side = int(n**0.5)
    grid = images[: side * side].reshape(side, side, 28, 28).permute(0, 2, 1, 3).reshape(side * 28, side * 28)
    plt.imshow(grid, cmap="gray")
    plt.axis("off")
    plt.show()


# %% run
if __name__ == "__main__":  # in a notebook this cell runs only when you run it; the grader never does
    parser = argparse.ArgumentParser(description="Train a PixelRNN on binarized MNIST and plot samples.")
    parser.add_argument("--data-dir", default=DATA_DIR, help="folder with the MNIST *-ubyte.gz files")
    parser.add_argument("--kind", default=KIND, choices=["row", "diagonal"])
    args, _ = parser.parse_known_args()  # known args only: Jupyter passes its own
    torch.manual_seed(SEED)
    pixelrnn = train(PixelRNN(1, HIDDEN_CHANNELS, N_LAYERS, args.kind), load_mnist(args.data_dir)[:10000])
    show_samples(pixelrnn)
