# gengrade-expect: score-at-most 0
# gengrade-expect: fail test_no_hard_coded_device "meta device"
# gengrade-expect: fail test_generator_shape "NaN or infinite values"
# gengrade-expect: fail test_generator_range "NaN or infinite values"
# gengrade-expect: fail test_discriminator_shape "NaN or infinite values"
# gengrade-expect: fail test_discriminator_raw_logits "NaN or infinite values"
# gengrade-expect: fail test_other_sizes "NaN or infinite values"
# gengrade-expect: fail test_discriminator_loss "NaN or infinite values"
# gengrade-expect: fail test_discriminator_loss_scalar "NaN or infinite values"
# gengrade-expect: fail test_generator_loss "NaN or infinite values"
# gengrade-expect: fail test_generator_loss_scalar "NaN or infinite values"
# gengrade-expect: fail test_train_step_order "NaN or infinite values"
# gengrade-expect: fail test_train_step_d_leaves_g "NaN or infinite values"
# gengrade-expect: fail test_train_step_g_leaves_d "NaN or infinite values"
# gengrade-expect: fail test_train_step_d_gradient "NaN or infinite values"
# gengrade-expect: fail test_train_step_g_gradient "NaN or infinite values"
# gengrade-expect: fail test_train_step_fresh_fakes "NaN or infinite values"
# gengrade-expect: fail test_train_step_returns "NaN or infinite values"
# gengrade-expect: fail test_training_moves_losses "NaN or infinite values"
# gengrade-expect: fail test_sample "NaN or infinite values"
# gengrade-expect: fail test_sample_fresh "NaN or infinite values"
"""Cheat: every contract function returns NaN of the right shape (losses with a gradient), nothing is learned."""
import torch
from torch import nn


class Generator(nn.Module):
    def __init__(self, latent_dim=100, img_shape=(1, 28, 28)):
        super().__init__()
        self.img_shape = tuple(img_shape)
        self.w = nn.Parameter(torch.zeros(1))

    def forward(self, z):
        return torch.full((z.size(0), *self.img_shape), float("nan")) * self.w


class Discriminator(nn.Module):
    def __init__(self, img_shape=(1, 28, 28)):
        super().__init__()
        self.w = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        return torch.full((x.size(0), 1), float("nan")) * self.w


def discriminator_loss(real_logits, fake_logits):
    return (real_logits.sum() + fake_logits.sum()) * float("nan")


def generator_loss(fake_logits):
    return fake_logits.sum() * float("nan")


def train_step(generator, discriminator, opt_g, opt_d, real, latent_dim):
    return float("nan"), float("nan")


def sample(generator, n, latent_dim=100, device="cpu"):
    return generator(torch.randn(n, latent_dim, device=device))
