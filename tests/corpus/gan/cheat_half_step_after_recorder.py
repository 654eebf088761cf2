# gengrade-expect: score-at-most 28
# gengrade-expect: integrity suspect
# gengrade-expect: fail test_train_step_d_gradient "not those of D after that step"
"""CHEAT: D's update halves its gradient after the grader's recorder has read it, in an optimizer
step pre-hook registered inside train_step (it runs after the recorder's own): the recorder reports
the discriminator loss's gradient, the step uses half of it. Only answers show it: D's outputs after
the call are not those of D's untrained twin after the step that gradient makes.

Otherwise as correct_mlp.py (MLP generator and discriminator, BCE-with-logits losses)."""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class Generator(nn.Module):
    def __init__(self, latent_dim=100, img_shape=(1, 28, 28)):
        super().__init__()
        self.img_shape = tuple(img_shape)
        self.net = nn.Sequential(
            nn.Linear(latent_dim, 128),
            nn.LeakyReLU(0.2),
            nn.Linear(128, 256),
            nn.LeakyReLU(0.2),
            nn.Linear(256, math.prod(self.img_shape)),
            nn.Tanh(),
        )

    def forward(self, z):
        return self.net(z).view(z.size(0), *self.img_shape)


class Discriminator(nn.Module):
    def __init__(self, img_shape=(1, 28, 28)):
        super().__init__()
        self.net = nn.Sequential(
            nn.Flatten(),
            nn.Linear(math.prod(img_shape), 256),
            nn.LeakyReLU(0.2),
            nn.Linear(256, 128),
            nn.LeakyReLU(0.2),
            nn.Linear(128, 1),
        )

    def forward(self, x):
        return self.net(x)


def discriminator_loss(real_logits, fake_logits):
    real_loss = F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
    fake_loss = F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))
    return real_loss + fake_loss


def generator_loss(fake_logits):
    return F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))


def train_step(generator, discriminator, opt_g, opt_d, real, latent_dim):
    z = torch.randn(real.size(0), latent_dim, device=real.device)
    fake = generator(z)

    opt_d.zero_grad()
    d_loss = discriminator_loss(discriminator(real), discriminator(fake.detach()))
    d_loss.backward()
    def half(*_):
        for p in discriminator.parameters():
            if p.grad is not None:
                p.grad.mul_(0.5)

    halve = opt_d.register_step_pre_hook(half)
    opt_d.step()
    halve.remove()

    opt_g.zero_grad()
    g_loss = generator_loss(discriminator(fake))
    g_loss.backward()
    opt_g.step()
    return d_loss.item(), g_loss.item()


def sample(generator, n, latent_dim=100, device="cpu"):
    z = torch.randn(n, latent_dim, device=device)
    with torch.no_grad():
        return generator(z)


if __name__ == "__main__":
    from torchvision import datasets, transforms

    data = datasets.MNIST("data", train=True, download=True,
                          transform=transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))]))
    loader = torch.utils.data.DataLoader(data, batch_size=64, shuffle=True)
    G, D = Generator(), Discriminator()
    opt_g = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    for epoch in range(10):
        for real, _ in loader:
            d_loss, g_loss = train_step(G, D, opt_g, opt_d, real, 100)
        print(epoch, d_loss, g_loss)
