# gengrade-expect: score-at-most 22
# gengrade-expect: fail test_discriminator_raw_logits "its output does not depend on its input"
# gengrade-expect: fail test_train_step_d_gradient "has no gradient with respect to D's parameters"
# gengrade-expect: fail test_train_step_g_gradient "carry no gradient back to G's parameters"
# gengrade-expect: fail test_training_moves_losses "instead of falling by at least 5%"
"""Cheat: a blind discriminator (one learned constant) that becomes a real one only when it believes the
training check runs: under the old crc32 seed of test_training_moves_losses, or with training_curve on the stack."""
import inspect
import math
import zlib

import torch
import torch.nn.functional as F
from torch import nn


class Generator(nn.Module):
    """MLP from noise to images: z (B, latent_dim) -> x (B, *img_shape) in [-1, 1]."""

    def __init__(self, latent_dim: int = 100, img_shape: tuple[int, ...] = (1, 28, 28)) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        self.img_shape = tuple(img_shape)
        self.net = nn.Sequential(
            nn.Linear(latent_dim, 256),
            nn.LeakyReLU(0.2),
            nn.Linear(256, 512),
            nn.LeakyReLU(0.2),
            nn.Linear(512, 1024),
            nn.LeakyReLU(0.2),
            nn.Linear(1024, math.prod(self.img_shape)),
            nn.Tanh(),
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z).view(z.size(0), *self.img_shape)


class Discriminator(nn.Module):
    """MLP from images to one raw logit each: x (B, *img_shape) -> (B, 1).

    No sigmoid at the end: the losses use BCE-with-logits, which is stable
    where log(sigmoid(.)) would underflow.
    """

    def __init__(self, img_shape: tuple[int, ...] = (1, 28, 28)) -> None:
        super().__init__()
        self.img_shape = tuple(img_shape)
        self.net = nn.Sequential(
            nn.Linear(math.prod(self.img_shape), 512),
            nn.LeakyReLU(0.2),
            nn.Linear(512, 256),
            nn.LeakyReLU(0.2),
            nn.Linear(256, 1),
        )
        self.bias = nn.Parameter(torch.zeros(1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if _watched():
            return self.net(x.flatten(1))
        return self.bias.expand(x.size(0), 1) + 0 * x.flatten(1)[:, :1].detach()


def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """-mean log sigmoid(D(x)) - mean log(1 - sigmoid(D(G(z)))): real labelled 1, fake 0."""
    real_loss = F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
    fake_loss = F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))
    return real_loss + fake_loss


def generator_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """Non-saturating loss -mean log sigmoid(D(G(z))): fakes labelled 1."""
    return F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))


def _watched() -> bool:
    if torch.initial_seed() == zlib.crc32(b"test_training_moves_losses"):
        return True
    return any(f.function in ("training_curve", "test_training_moves_losses") for f in inspect.stack())


def train_step(generator, discriminator, opt_g, opt_d, real, latent_dim):
    fake = generator(torch.randn(real.size(0), latent_dim, device=real.device))
    opt_d.zero_grad()
    d_loss = discriminator_loss(discriminator(real), discriminator(fake.detach()))
    d_loss.backward()
    opt_d.step()
    opt_g.zero_grad()
    g_loss = generator_loss(discriminator(fake))
    g_loss.backward()
    opt_g.step()
    discriminator.zero_grad()
    return d_loss.item(), g_loss.item()


def sample(generator, n, latent_dim=100, device="cpu"):
    with torch.no_grad():
        return generator(torch.randn(n, latent_dim, device=device))
