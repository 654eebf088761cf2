# gengrade-expect: score-at-most 28
# gengrade-expect: fail test_encode_shapes "does not depend on x"
"""Cheat: an encoder that ignores its input (mu and logvar are learned constants); everything else is honest."""
import torch
import torch.nn.functional as F
from torch import nn


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
        x = x.view(x.size(0), -1)
        h = F.relu(self.fc1(torch.zeros_like(x)))  # the data never reach the encoder
        return self.fc_mu(h), self.fc_logvar(h)

    def reparameterize(self, mu, logvar):
        std = torch.exp(0.5 * logvar)
        return mu + torch.randn_like(std) * std

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
