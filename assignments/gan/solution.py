"""Assignment: Generative Adversarial Networks (Goodfellow et al. 2014) on MNIST.

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
import torch.nn.functional as F
from torch import nn

# %% hyperparameters
LATENT_DIM = 100
IMG_SHAPE = (1, 28, 28)
BATCH_SIZE = 64
EPOCHS = 20
LEARNING_RATE = 2e-4
BETAS = (0.5, 0.999)
DATA_DIR = os.environ.get("GENGRADE_DATA")  # a folder with the four MNIST *-ubyte.gz files, or None to download
DEVICE = "cuda" if torch.cuda.is_available() else "cpu"
SEED = 0


# %% Generator
class Generator(nn.Module):
    """G: noise z (B, latent_dim) -> images (B, *img_shape) with values in [-1, 1]."""

    def __init__(self, latent_dim=100, img_shape=(1, 28, 28)):
        """Build the layers of G; keep latent_dim and img_shape for forward."""
        super().__init__()
        ### BEGIN SOLUTION
        self.img_shape = tuple(img_shape)
        width = 256
        self.layers = nn.Sequential(
            nn.Linear(latent_dim, width), nn.LeakyReLU(0.2),
            nn.Linear(width, 2 * width), nn.LeakyReLU(0.2),
            nn.Linear(2 * width, math.prod(self.img_shape)), nn.Tanh(),
        )
        ### END SOLUTION

    def forward(self, z):
        """Map z (B, latent_dim) to images (B, *img_shape) in [-1, 1] (tanh, like the data)."""
        ### BEGIN SOLUTION
        flat = self.layers(z)
        return flat.reshape(len(z), *self.img_shape)
        ### END SOLUTION


# %% Discriminator
class Discriminator(nn.Module):
    """D: images (B, *img_shape) -> one raw logit each, (B, 1)."""

    def __init__(self, img_shape=(1, 28, 28)):
        """Build the layers of D; its last layer has no sigmoid."""
        super().__init__()
        ### BEGIN SOLUTION
        width = 256
        self.layers = nn.Sequential(
            nn.Flatten(),
            nn.Linear(math.prod(img_shape), 2 * width), nn.LeakyReLU(0.2),
            nn.Linear(2 * width, width), nn.LeakyReLU(0.2),
            nn.Linear(width, 1),
        )
        ### END SOLUTION

    def forward(self, x):
        """Map images (B, *img_shape) to raw logits (B, 1): no sigmoid."""
        ### BEGIN SOLUTION
        return self.layers(x)
        ### END SOLUTION


# %% discriminator_loss
def discriminator_loss(real_logits, fake_logits):
    """Return mean BCE of real logits against 1 plus mean BCE of fake logits against 0 (a 0-dim tensor)."""
    ### BEGIN SOLUTION
    on_real = F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
    on_fake = F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))
    return on_real + on_fake
    ### END SOLUTION


# %% generator_loss
def generator_loss(fake_logits):
    """Return the non-saturating loss: mean BCE of fake logits against label 1 (a 0-dim tensor)."""
    ### BEGIN SOLUTION
    target = torch.ones_like(fake_logits)
    return F.binary_cross_entropy_with_logits(fake_logits, target)
    ### END SOLUTION


# %% train_step
def train_step(generator, discriminator, opt_g, opt_d, real, latent_dim):
    """One D update on real and fresh fakes, then one G update; return (d_loss, g_loss) as Python floats."""
    ### BEGIN SOLUTION
    noise = torch.randn(len(real), latent_dim, device=real.device)
    fakes = generator(noise)

    opt_d.zero_grad()
    loss_d = discriminator_loss(discriminator(real), discriminator(fakes.detach()))
    loss_d.backward()
    opt_d.step()

    opt_g.zero_grad()
    loss_g = generator_loss(discriminator(fakes))
    loss_g.backward()
    opt_g.step()
    opt_d.zero_grad()  # the G step also filled D's gradients: clear them
    return float(loss_d), float(loss_g)
    ### END SOLUTION


# %% sample
@torch.no_grad()
def sample(generator, n, latent_dim=100, device="cpu"):
    """Return n images G(z) from fresh z ~ N(0, I): (n, *img_shape) in [-1, 1]."""
    ### BEGIN SOLUTION
    latents = torch.randn(n, latent_dim, device=device)
    return generator(latents)
    ### END SOLUTION


# %% training
def load_mnist(data_dir=None):
    """MNIST training images as a float tensor (N, 1, 28, 28) scaled to [-1, 1], the range of tanh."""
    if data_dir:
        raw = gzip.decompress((Path(data_dir) / "train-images-idx3-ubyte.gz").read_bytes())
        pixels = torch.from_numpy(np.frombuffer(raw, dtype=np.uint8, offset=16).reshape(-1, 1, 28, 28).copy())
    else:
        from torchvision import datasets

        pixels = datasets.MNIST(Path.home() / ".cache" / "mnist", train=True, download=True).data.unsqueeze(1)
    return pixels.float() / 127.5 - 1


def train(generator, discriminator, images, epochs=EPOCHS, batch_size=BATCH_SIZE, device=DEVICE):
    """Adam for both players (lr 2e-4, betas (0.5, 0.999)); prints the mean losses per epoch."""
    generator.to(device).train()
    discriminator.to(device).train()
    opt_g = torch.optim.Adam(generator.parameters(), lr=LEARNING_RATE, betas=BETAS)
    opt_d = torch.optim.Adam(discriminator.parameters(), lr=LEARNING_RATE, betas=BETAS)
    loader = torch.utils.data.DataLoader(images, batch_size=batch_size, shuffle=True, drop_last=True)
    for epoch in range(epochs):
        losses = [train_step(generator, discriminator, opt_g, opt_d, real.to(device), LATENT_DIM) for real in loader]
        d_mean, g_mean = (sum(column) / len(losses) for column in zip(*losses))
        print(f"epoch {epoch + 1}: D loss {d_mean:.3f}, G loss {g_mean:.3f}")
    return generator


def show_samples(generator, n=64, device=DEVICE):
    """Plot n generated images in a grid (mapped back from [-1, 1] to [0, 1])."""
    import matplotlib.pyplot as plt

    images = (sample(generator.eval(), n, LATENT_DIM, device=device).reshape(n, 28, 28).cpu() + 1) / 2
    side = int(n**0.5)
    grid = images[: side * side].reshape(side, side, 28, 28).permute(0, 2, 1, 3).reshape(side * 28, side * 28)
    plt.imshow(grid, cmap="gray")
    plt.axis("off")
    plt.show()


# %% run
if __name__ == "__main__":  # in a notebook this cell runs only when you run it; the grader never does
    parser = argparse.ArgumentParser(description="Train the GAN on MNIST and plot samples.")
    parser.add_argument("--data-dir", default=DATA_DIR, help="folder with the MNIST *-ubyte.gz files")
    args, _ = parser.parse_known_args()  # known args only: Jupyter passes its own
    torch.manual_seed(SEED)
    g = train(Generator(LATENT_DIM, IMG_SHAPE), Discriminator(IMG_SHAPE), load_mnist(args.data_dir))
    show_samples(g)
