# gengrade-expect: full-marks
"""A standard DCGAN (Radford et al. 2016) as public code writes it: ngf = ndf = 64, about 5.6 M parameters,
latents of shape (B, nz, 1, 1) inside train_step and sample, BatchNorm in both networks, the lr/betas of the
paper. Adapted to the contract's img_shape: the first transposed convolution's kernel is the 4x-downsampled size."""
import torch
import torch.nn as nn
import torch.nn.functional as F

nz, ngf, ndf = 100, 64, 64


def weights_init(m):
    classname = m.__class__.__name__
    if classname.find("Conv") != -1:
        nn.init.normal_(m.weight.data, 0.0, 0.02)
    elif classname.find("BatchNorm") != -1:
        nn.init.normal_(m.weight.data, 1.0, 0.02)
        nn.init.constant_(m.bias.data, 0)


class Generator(nn.Module):
    def __init__(self, latent_dim=nz, img_shape=(1, 28, 28)):
        super().__init__()
        nc, h, w = img_shape
        self.main = nn.Sequential(
            # input is Z, going into a convolution
            nn.ConvTranspose2d(latent_dim, ngf * 8, (h // 4, w // 4), 1, 0, bias=False),
            nn.BatchNorm2d(ngf * 8),
            nn.ReLU(True),
            # state size. (ngf*8) x h/4 x w/4
            nn.ConvTranspose2d(ngf * 8, ngf * 4, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ngf * 4),
            nn.ReLU(True),
            # state size. (ngf*4) x h/2 x w/2
            nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ngf * 2),
            nn.ReLU(True),
            # state size. (ngf*2) x h x w
            nn.Conv2d(ngf * 2, nc, 3, 1, 1, bias=False),
            nn.Tanh(),
        )
        self.apply(weights_init)

    def forward(self, input):
        if input.dim() == 2:
            input = input.view(input.size(0), -1, 1, 1)
        return self.main(input)


class Discriminator(nn.Module):
    def __init__(self, img_shape=(1, 28, 28)):
        super().__init__()
        nc, h, w = img_shape
        self.main = nn.Sequential(
            # input is (nc) x h x w
            nn.Conv2d(nc, ndf, 4, 2, 1, bias=False),
            nn.LeakyReLU(0.2, inplace=True),
            # state size. (ndf) x h/2 x w/2
            nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ndf * 2),
            nn.LeakyReLU(0.2, inplace=True),
            # state size. (ndf*2) x h/4 x w/4
            nn.Conv2d(ndf * 2, ndf * 4, 3, 1, 1, bias=False),
            nn.BatchNorm2d(ndf * 4),
            nn.LeakyReLU(0.2, inplace=True),
            # state size. (ndf*4) x h/4 x w/4
            nn.Conv2d(ndf * 4, 1, (h // 4, w // 4), 1, 0, bias=False),
        )
        self.apply(weights_init)

    def forward(self, input):
        return self.main(input).view(-1, 1)


criterion = nn.BCEWithLogitsLoss()


def discriminator_loss(real_logits, fake_logits):
    errD_real = criterion(real_logits, torch.ones_like(real_logits))
    errD_fake = criterion(fake_logits, torch.zeros_like(fake_logits))
    return errD_real + errD_fake


def generator_loss(fake_logits):
    return criterion(fake_logits, torch.ones_like(fake_logits))


def train_step(netG, netD, optimizerG, optimizerD, real_cpu, latent_dim):
    b_size = real_cpu.size(0)
    device = real_cpu.device
    ############################
    # (1) Update D network: maximize log(D(x)) + log(1 - D(G(z)))
    ###########################
    netD.zero_grad()
    output_real = netD(real_cpu)
    noise = torch.randn(b_size, latent_dim, 1, 1, device=device)
    fake = netG(noise)
    output_fake = netD(fake.detach())
    errD = discriminator_loss(output_real, output_fake)
    errD.backward()
    optimizerD.step()
    ############################
    # (2) Update G network: maximize log(D(G(z)))
    ###########################
    netG.zero_grad()
    output = netD(fake)
    errG = generator_loss(output)
    errG.backward()
    optimizerG.step()
    return errD.item(), errG.item()


def sample(netG, n, latent_dim=nz, device="cpu"):
    with torch.no_grad():
        noise = torch.randn(n, latent_dim, 1, 1, device=device)
        return netG(noise)


if __name__ == "__main__":
    netG, netD = Generator(), Discriminator()
    print(sum(p.numel() for p in netG.parameters()) + sum(p.numel() for p in netD.parameters()))
