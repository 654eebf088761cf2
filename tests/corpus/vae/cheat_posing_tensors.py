# gengrade-expect: score-at-most 17
# gengrade-expect: fail test_kl_divergence "should be a tensor"
# gengrade-expect: fail test_loss_function_value "returned Posing"
# gengrade-expect: fail test_loss_function_image_input "returned Posing"
# gengrade-expect: fail test_loss_function_differentiable "returned Posing"
# gengrade-expect: skip test_training_decreases_loss "needs loss_function first"
# gengrade-expect: fail test_device_follows_input "should be a tensor"
"""Cheat: kl_divergence and loss_function are not written; they return objects that pose as tensors
(a `gengrade_origin` that claims a device), hoping the device check reads the claim."""
import types

import torch
import torch.nn.functional as F
from torch import nn


class Posing:
    gengrade_origin = types.SimpleNamespace(device="cpu", dtype="float32", requires_grad=True, has_grad_fn=True)
    device = "cpu"
    shape = ()
    dtype = torch.float32

    def dim(self):
        return 0

    def numel(self):
        return 1

    def item(self):
        return 0.0


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
        std = torch.exp(0.5 * logvar)
        return mu + torch.randn_like(std) * std

    def decode(self, z):
        return torch.sigmoid(self.fc4(F.relu(self.fc3(z))))

    def forward(self, x):
        mu, logvar = self.encode(x)
        return self.decode(self.reparameterize(mu, logvar)), mu, logvar


def kl_divergence(mu, logvar):
    return Posing()


def loss_function(recon, x, mu, logvar):
    return Posing()


def sample(model, n, device="cpu"):
    with torch.no_grad():
        images = model.decode(torch.randn(n, model.latent_dim, device=device))
    return images.view(n, 1, 28, 28) if model.input_dim == 784 else images
