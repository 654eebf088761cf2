# gengrade-expect: full-marks
"""A discriminator with nn.Dropout(0.3) after each hidden layer, as many MNIST GAN tutorials write it: D is
stochastic in training mode, so two calls on one input differ (no integrity suspicion may come of that)."""
import math

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
            nn.Dropout(0.3),
            nn.Linear(512, 256),
            nn.LeakyReLU(0.2),
            nn.Dropout(0.3),
            nn.Linear(256, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x.flatten(1))


def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """-mean log sigmoid(D(x)) - mean log(1 - sigmoid(D(G(z)))): real labelled 1, fake 0."""
    real_loss = F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
    fake_loss = F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))
    return real_loss + fake_loss


def generator_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """Non-saturating loss -mean log sigmoid(D(G(z))): fakes labelled 1."""
    return F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))


def train_step(
    generator: nn.Module,
    discriminator: nn.Module,
    opt_g: torch.optim.Optimizer,
    opt_d: torch.optim.Optimizer,
    real: torch.Tensor,
    latent_dim: int,
) -> tuple[float, float]:
    """One discriminator update, then one generator update; returns (d_loss, g_loss).

    The fakes are detached for the D step, so G receives no gradient from it.
    The G step backpropagates through D (it must, to reach G) but only opt_g
    steps; D's gradients from that pass are cleared so they cannot leak into a
    later opt_d.step().
    """
    z = torch.randn(real.size(0), latent_dim, device=real.device)
    fake = generator(z)

    opt_d.zero_grad(set_to_none=True)
    d_loss = discriminator_loss(discriminator(real), discriminator(fake.detach()))
    d_loss.backward()
    opt_d.step()

    opt_g.zero_grad(set_to_none=True)
    g_loss = generator_loss(discriminator(fake))
    g_loss.backward()
    opt_g.step()
    discriminator.zero_grad(set_to_none=True)

    return d_loss.item(), g_loss.item()


@torch.no_grad()
def sample(generator: nn.Module, n: int, latent_dim: int = 100, device: torch.device | str = "cpu") -> torch.Tensor:
    """Draw n images G(z), z ~ N(0, I): (n, *img_shape) in [-1, 1]."""
    z = torch.randn(n, latent_dim, device=device)
    return generator(z)
