# gengrade-expect: full-marks
"""A correct VAE with a convolutional encoder/decoder and torch.distributions for the KL."""
import math

import torch
from torch import nn
from torch.distributions import Normal, kl_divergence as dist_kl


class VAE(nn.Module):
    def __init__(self, input_dim=784, hidden_dim=400, latent_dim=20):
        super().__init__()
        self.input_dim = input_dim
        self.latent_dim = latent_dim
        self.side = int(math.isqrt(input_dim))
        channels = 8
        self.encoder = nn.Sequential(
            nn.Conv2d(1, channels, 3, padding=1), nn.ELU(),
            nn.Flatten(), nn.Linear(channels * input_dim, hidden_dim), nn.ELU(),
            nn.Linear(hidden_dim, 2 * latent_dim),
        )
        self.decoder = nn.Sequential(
            nn.Linear(latent_dim, hidden_dim), nn.ELU(),
            nn.Linear(hidden_dim, channels * input_dim), nn.ELU(),
            nn.Unflatten(1, (channels, self.side, self.side)),
            nn.Conv2d(channels, 1, 3, padding=1), nn.Flatten(), nn.Sigmoid(),
        )

    def encode(self, x):
        x = x.reshape(x.shape[0], 1, self.side, self.side)
        mu, logvar = self.encoder(x).chunk(2, dim=1)
        return mu, logvar

    def reparameterize(self, mu, logvar):
        return mu + (logvar / 2).exp() * torch.randn_like(mu)

    def decode(self, z):
        return self.decoder(z)

    def forward(self, x):
        mu, logvar = self.encode(x)
        return self.decode(self.reparameterize(mu, logvar)), mu, logvar


def kl_divergence(mu, logvar):
    q = Normal(mu, (logvar / 2).exp())
    p = Normal(torch.zeros_like(mu), torch.ones_like(mu))
    return dist_kl(q, p).sum(-1)


def loss_function(recon, x, mu, logvar):
    x = x.reshape(recon.shape)
    log_px = (x * torch.log(recon.clamp_min(1e-12)) + (1 - x) * torch.log((1 - recon).clamp_min(1e-12))).sum()
    return -log_px + kl_divergence(mu, logvar).sum()


@torch.no_grad()
def sample(model, n, device="cpu"):
    z = torch.randn(n, model.latent_dim, device=device)
    out = model.decode(z)
    return out.view(n, 1, 28, 28) if model.input_dim == 784 else out
