# gengrade-expect: full-marks
"""GAN whose D step does not detach the fakes: harmless, because G's gradients are
cleared before the G step (wasteful, but every sentence of the contract holds)."""
import numpy as np
import torch
import torch.nn as nn


class Generator(nn.Module):
    def __init__(self, latent_dim=100, img_shape=(1, 28, 28), hidden=64):
        super().__init__()
        self.img_shape = img_shape
        self.body = nn.Sequential(
            nn.Linear(latent_dim, hidden),
            nn.BatchNorm1d(hidden),
            nn.ReLU(),
            nn.Linear(hidden, int(np.prod(img_shape))),
        )

    def forward(self, z):
        x = torch.tanh(self.body(z))
        return x.reshape(len(z), *self.img_shape)


class Discriminator(nn.Module):
    def __init__(self, img_shape=(1, 28, 28), hidden=64):
        super().__init__()
        self.body = nn.Sequential(
            nn.Linear(int(np.prod(img_shape)), hidden),
            nn.LeakyReLU(0.2),
            nn.Dropout(0.3),
            nn.Linear(hidden, 1),
        )

    def forward(self, x):
        return self.body(x.reshape(len(x), -1))


def discriminator_loss(real_logits, fake_logits):
    bce = nn.BCEWithLogitsLoss()
    return bce(real_logits, torch.ones_like(real_logits)) + bce(fake_logits, torch.zeros_like(fake_logits))


def generator_loss(fake_logits):
    return nn.BCEWithLogitsLoss()(fake_logits, torch.ones_like(fake_logits))


def train_step(generator, discriminator, opt_g, opt_d, real, latent_dim):
    noise = torch.randn(real.shape[0], latent_dim).to(real.device)
    fake = generator(noise)

    discriminator.zero_grad()
    d_loss = discriminator_loss(discriminator(real), discriminator(fake))
    d_loss.backward(retain_graph=True)
    opt_d.step()

    generator.zero_grad()
    g_loss = generator_loss(discriminator(fake))
    g_loss.backward()
    opt_g.step()
    return d_loss.item(), g_loss.item()


def sample(generator, n, latent_dim=100, device="cpu"):
    return generator(torch.randn(n, latent_dim, device=device)).detach()
