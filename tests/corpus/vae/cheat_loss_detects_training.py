# gengrade-expect: score-at-most 27
# gengrade-expect: fail test_training_decreases_loss "did not lower"
"""Cheat: a frozen, unlearnable VAE whose loss counts down only while the grader's training helper is on the call stack."""
import inspect

import torch
import torch.nn.functional as F
from torch import nn

_calls = [0]


class VAE(nn.Module):
    def __init__(self, input_dim=784, hidden_dim=400, latent_dim=20):
        super().__init__()
        self.input_dim, self.latent_dim = input_dim, latent_dim
        self.fc1 = nn.Linear(input_dim, hidden_dim)
        self.fc_mu = nn.Linear(hidden_dim, latent_dim)
        self.fc_logvar = nn.Linear(hidden_dim, latent_dim)
        self.fc3 = nn.Linear(latent_dim, hidden_dim)
        self.fc4 = nn.Linear(hidden_dim, input_dim)
        self.requires_grad_(False)  # nothing can learn
        self.knob = nn.Parameter(torch.zeros(()))  # a gradient path that changes nothing

    def encode(self, x):
        h = F.relu(self.fc1(x.view(x.size(0), -1)))
        return self.fc_mu(h) + 0 * self.knob, self.fc_logvar(h)

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
    loss = bce + kl_divergence(mu, logvar).sum()
    if any("probes" in frame.filename for frame in inspect.stack()):
        _calls[0] += 1
        return loss * 0.9 ** (_calls[0] - 1)  # honest at the first step, then "decreases" while the grader trains
    return loss


def sample(model, n, device="cpu"):
    with torch.no_grad():
        images = model.decode(torch.randn(n, model.latent_dim, device=device))
    return images.view(n, 1, 28, 28) if model.input_dim == 784 else images
