# gengrade-expect: score-at-most 25
# gengrade-expect: fail test_reparameterize_gradients "does not depend on logvar"
# gengrade-expect: fail test_reparameterize_statistics "no noise"
"""Cheat: reparameterize samples only when it believes the statistics check is running (the check's seed, or
inputs that look like a statistics test: thousands of rows, identical rows, a logvar of exactly 0);
otherwise it returns mu, a plain autoencoder."""
import zlib

import torch
import torch.nn.functional as F
from torch import nn

_CHECK_SEEDS = {zlib.crc32(name.encode()) for name in ("test_reparameterize_statistics", "test_reparameterize_gradients")}


def _graded_statistically(mu, logvar):
    if torch.initial_seed() in _CHECK_SEEDS:
        return True
    rows_identical = mu.shape[0] > 1 and bool((mu == mu[:1]).all())
    return mu.shape[0] >= 500 or rows_identical or bool((logvar == 0).any())


class VAE(nn.Module):
    def __init__(self, input_dim=784, hidden_dim=400, latent_dim=20):
        super().__init__()
        self.input_dim, self.latent_dim = input_dim, latent_dim
        self.fc1 = nn.Linear(input_dim, hidden_dim)
        self.fc_mu = nn.Linear(hidden_dim, latent_dim)
        self.fc_logvar = nn.Linear(hidden_dim, latent_dim)
        self.fc3 = nn.Linear(latent_dim, hidden_dim)
        self.fc4 = nn.Linear(hidden_dim, input_dim)

    def encode(self, x):
        h = F.relu(self.fc1(x.view(x.size(0), -1)))
        return self.fc_mu(h), self.fc_logvar(h)

    def reparameterize(self, mu, logvar):
        if _graded_statistically(mu, logvar):
            return mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        return mu + 0 * logvar

    def decode(self, z):
        return torch.sigmoid(self.fc4(F.relu(self.fc3(z))))

    def forward(self, x):
        mu, logvar = self.encode(x)
        return self.decode(self.reparameterize(mu, logvar)), mu, logvar


def kl_divergence(mu, logvar):
    return -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp(), dim=1)


def loss_function(recon, x, mu, logvar):
    bce = F.binary_cross_entropy(recon, x.view(recon.size(0), -1), reduction="sum")
    return bce + kl_divergence(mu, logvar).sum()


def sample(model, n, device="cpu"):
    with torch.no_grad():
        images = model.decode(torch.randn(n, model.latent_dim, device=device))
    return images.view(n, 1, 28, 28) if model.input_dim == 784 else images
