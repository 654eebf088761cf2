# gengrade-expect: full-marks
"""Correct: a DCGAN-style convolutional VAE with channels up to 512 and BatchNorm, as public conv VAEs are written.
Strided convolutions halve the image until it is 1x1 (any square input_dim), and the decoder mirrors them."""
import math

import torch
import torch.nn.functional as F
from torch import nn


def _halvings(side):
    sizes = [side]
    while sizes[-1] > 1:
        sizes.append((sizes[-1] + 1) // 2)
    return sizes


class VAE(nn.Module):
    def __init__(self, input_dim=784, hidden_dim=400, latent_dim=20):
        super().__init__()
        self.input_dim, self.latent_dim = input_dim, latent_dim
        self.side = math.isqrt(input_dim)
        self.sizes = _halvings(self.side)  # 28 -> 14 -> 7 -> 4 -> 2 -> 1
        channels = [1] + [min(32 * 2 ** i, 512) for i in range(len(self.sizes) - 1)]
        self.channels = channels
        encoder = []
        for c_in, c_out in zip(channels, channels[1:]):
            encoder += [nn.Conv2d(c_in, c_out, 3, stride=2, padding=1), nn.BatchNorm2d(c_out), nn.LeakyReLU(0.2)]
        self.encoder = nn.Sequential(*encoder, nn.Flatten())
        self.fc_mu = nn.Linear(channels[-1], latent_dim)
        self.fc_logvar = nn.Linear(channels[-1], latent_dim)
        self.fc_z = nn.Linear(latent_dim, channels[-1])
        decoder = []
        reversed_sizes = self.sizes[::-1]
        for i, (c_in, c_out) in enumerate(zip(channels[::-1], channels[::-1][1:])):
            out_pad = reversed_sizes[i + 1] - (2 * reversed_sizes[i] - 1)
            decoder.append(nn.ConvTranspose2d(c_in, c_out, 3, stride=2, padding=1, output_padding=out_pad))
            if c_out != 1:
                decoder += [nn.BatchNorm2d(c_out), nn.ReLU()]
        self.decoder = nn.Sequential(*decoder, nn.Sigmoid())

    def encode(self, x):
        h = self.encoder(x.view(-1, 1, self.side, self.side))
        return self.fc_mu(h), self.fc_logvar(h)

    def reparameterize(self, mu, logvar):
        std = torch.exp(0.5 * logvar)
        return mu + std * torch.randn_like(std)

    def decode(self, z):
        h = self.fc_z(z).view(-1, self.channels[-1], 1, 1)
        return self.decoder(h).view(z.size(0), self.input_dim)

    def forward(self, x):
        mu, logvar = self.encode(x)
        return self.decode(self.reparameterize(mu, logvar)), mu, logvar


def kl_divergence(mu, logvar):
    return -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp(), dim=-1)


def loss_function(recon, x, mu, logvar):
    bce = F.binary_cross_entropy(recon, x.reshape(recon.shape), reduction="sum")
    return bce + torch.sum(kl_divergence(mu, logvar))


@torch.no_grad()
def sample(model, n, device="cpu"):
    z = torch.randn(n, model.latent_dim, device=device)
    images = model.decode(z)
    return images.view(n, 1, 28, 28) if model.input_dim == 784 else images
