"""Assignment: Variational Autoencoder (Kingma & Welling 2013) on MNIST.

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
INPUT_DIM = 784
HIDDEN_DIM = 400
LATENT_DIM = 20
BATCH_SIZE = 128
EPOCHS = 10
LEARNING_RATE = 1e-3
DATA_DIR = os.environ.get("GENGRADE_DATA")  # a folder with the four MNIST *-ubyte.gz files, or None to download
DEVICE = "cuda" if torch.cuda.is_available() else "cpu"
SEED = 0


# %% VAE
class VAE(nn.Module):
    """Encoder q(z|x) = N(mu, diag(exp(logvar))) and Bernoulli decoder p(x|z)."""

    def __init__(self, input_dim=784, hidden_dim=400, latent_dim=20):
        """Build the encoder (x -> mu, logvar) and the decoder (z -> Bernoulli means); keep input_dim and latent_dim."""
        super().__init__()
        ### BEGIN SOLUTION
        self.input_dim = input_dim
        self.latent_dim = latent_dim
        self.hidden = nn.Linear(input_dim, hidden_dim)
        self.to_mu = nn.Linear(hidden_dim, latent_dim)
        self.to_logvar = nn.Linear(hidden_dim, latent_dim)
        self.decoder = nn.Sequential(
            nn.Linear(latent_dim, hidden_dim), nn.ReLU(), nn.Linear(hidden_dim, input_dim), nn.Sigmoid()
        )
        ### END SOLUTION

    def encode(self, x):
        """Map x, shaped (B, 1, H, W) or (B, input_dim), to (mu, logvar), each (B, latent_dim)."""
        ### BEGIN SOLUTION
        h = torch.relu(self.hidden(x.reshape(len(x), self.input_dim)))
        return self.to_mu(h), self.to_logvar(h)
        ### END SOLUTION

    def reparameterize(self, mu, logvar):
        """Return z = mu + exp(logvar / 2) * eps with fresh eps ~ N(0, I) for every element."""
        ### BEGIN SOLUTION
        noise = torch.randn_like(mu)
        return mu + noise * torch.exp(logvar / 2)
        ### END SOLUTION

    def decode(self, z):
        """Map z (B, latent_dim) to Bernoulli means (B, input_dim) in (0, 1)."""
        ### BEGIN SOLUTION
        return self.decoder(z)
        ### END SOLUTION

    def forward(self, x):
        """Encode, draw z with reparameterize, decode; return (recon, mu, logvar)."""
        ### BEGIN SOLUTION
        mu, logvar = self.encode(x)
        recon = self.decode(self.reparameterize(mu, logvar))
        return recon, mu, logvar
        ### END SOLUTION


# %% kl_divergence
def kl_divergence(mu, logvar):
    """Return KL(N(mu, diag(exp(logvar))) || N(0, I)) for each sample: shape (B,)."""
    ### BEGIN SOLUTION
    per_dim = mu * mu + torch.exp(logvar) - logvar - 1
    return per_dim.sum(dim=1) / 2
    ### END SOLUTION


# %% loss_function
def loss_function(recon, x, mu, logvar):
    """Return the negative ELBO summed over the batch: BCE summed over pixels plus the KL term."""
    ### BEGIN SOLUTION
    target = x.reshape(recon.shape)
    reconstruction = F.binary_cross_entropy(recon, target, reduction="sum")
    return reconstruction + kl_divergence(mu, logvar).sum()
    ### END SOLUTION


# %% sample
@torch.no_grad()
def sample(model, n, device="cpu"):
    """Decode n draws z ~ N(0, I): (n, 1, 28, 28) for input_dim 784, else (n, input_dim)."""
    ### BEGIN SOLUTION
    images = model.decode(torch.randn(n, model.latent_dim, device=device))
    if model.input_dim == 28 * 28:
        images = images.reshape(n, 1, 28, 28)
    return images
    ### END SOLUTION


# %% training
def load_mnist(data_dir=None):
    """MNIST training images as a float tensor (N, 1, 28, 28) in [0, 1] (no [-1, 1] here: BCE needs [0, 1])."""
    if data_dir:
        raw = gzip.decompress((Path(data_dir) / "train-images-idx3-ubyte.gz").read_bytes())
        pixels = np.frombuffer(raw, dtype=np.uint8, offset=16).reshape(-1, 1, 28, 28)
        return torch.from_numpy(pixels.copy()).float() / 255
    from torchvision import datasets

    return datasets.MNIST(Path.home() / ".cache" / "mnist", train=True, download=True).data.unsqueeze(1).float() / 255


def train(model, images, epochs=EPOCHS, batch_size=BATCH_SIZE, lr=LEARNING_RATE, device=DEVICE):
    """Adam on the negative ELBO; prints the mean loss per image after each epoch."""
    model.to(device).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    loader = torch.utils.data.DataLoader(images, batch_size=batch_size, shuffle=True)
    for epoch in range(epochs):
        total = 0.0
        for x in loader:
            x = x.to(device)
            recon, mu, logvar = model(x)
            loss = loss_function(recon, x, mu, logvar)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item()
        print(f"epoch {epoch + 1}: negative ELBO {total / len(images):.2f} nats per image")
    return model


def show_samples(model, n=64, device=DEVICE):
    """Plot n images decoded from the prior in a grid."""
    import matplotlib.pyplot as plt

    images = sample(model.eval(), n, device=device).reshape(n, 28, 28).cpu()
    side = int(n**0.5)
    grid = images[: side * side].reshape(side, side, 28, 28).permute(0, 2, 1, 3).reshape(side * 28, side * 28)
    plt.imshow(grid, cmap="gray")
    plt.axis("off")
    plt.show()


# %% run
if __name__ == "__main__":  # in a notebook this cell runs only when you run it; the grader never does
    parser = argparse.ArgumentParser(description="Train the VAE on MNIST and plot samples.")
    parser.add_argument("--data-dir", default=DATA_DIR, help="folder with the MNIST *-ubyte.gz files")
    args, _ = parser.parse_known_args()  # known args only: Jupyter passes its own
    torch.manual_seed(SEED)
    vae = train(VAE(INPUT_DIM, HIDDEN_DIM, LATENT_DIM), load_mnist(args.data_dir))
    show_samples(vae)
