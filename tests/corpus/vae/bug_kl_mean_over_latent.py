# gengrade-expect: fail test_kl_divergence "divided by the latent size"
"""One bug: KL averaged over the latent dimensions."""
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
        h = F.relu(self.fc1(x.view(x.size(0), -1)))
        return self.fc_mu(h), self.fc_logvar(h)

    def reparameterize(self, mu, logvar):
        std = torch.exp(0.5 * logvar)
        eps = torch.randn_like(std)
        return mu + eps * std

    def decode(self, z):
        return torch.sigmoid(self.fc4(F.relu(self.fc3(z))))

    def forward(self, x):
        mu, logvar = self.encode(x)
        z = self.reparameterize(mu, logvar)
        return self.decode(z), mu, logvar


def kl_divergence(mu, logvar):
    return -0.5 * torch.mean(1 + logvar - mu.pow(2) - logvar.exp(), dim=1)


def loss_function(recon, x, mu, logvar):
    bce = F.binary_cross_entropy(recon, x.view(recon.size(0), -1), reduction="sum")
    return bce + kl_divergence(mu, logvar).sum()


def sample(model, n, device="cpu"):
    with torch.no_grad():
        z = torch.randn(n, model.latent_dim, device=device)
        images = model.decode(z)
    if model.input_dim == 784:
        return images.view(n, 1, 28, 28)
    return images


if __name__ == "__main__":
    print("train me with the notebook")
