# gengrade-expect: fail test_signatures "not implemented: VAE.__init__"
# gengrade-expect: skip test_encode_shapes "needs VAE.__init__ first"
# gengrade-expect: skip test_decode_range "needs VAE.__init__ first"
# gengrade-expect: skip test_forward "needs VAE.__init__ first"
# gengrade-expect: skip test_training_decreases_loss "needs VAE.__init__ first"
# gengrade-expect: skip test_sample_from_prior "needs VAE.__init__ first"
# gengrade-expect: skip test_sample_default_shape "needs VAE.__init__ first"
# gengrade-expect: skip test_device_follows_input "needs VAE.__init__ first"
"""A template half done, in the order of the notebook's cells: reparameterize, kl_divergence and loss_function
are written, VAE.__init__ is still a stub. The three written items earn their points."""
import torch
import torch.nn.functional as F
from torch import nn


class VAE(nn.Module):
    def __init__(self, input_dim=784, hidden_dim=400, latent_dim=20):
        super().__init__()
        raise NotImplementedError("VAE.__init__: build the encoder and decoder")

    def encode(self, x):
        raise NotImplementedError("VAE.encode")

    def reparameterize(self, mu, logvar):
        std = torch.exp(0.5 * logvar)
        return mu + std * torch.randn_like(std)

    def decode(self, z):
        raise NotImplementedError("VAE.decode")

    def forward(self, x):
        raise NotImplementedError("VAE.forward")


def kl_divergence(mu, logvar):
    return 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum(dim=1)


def loss_function(recon, x, mu, logvar):
    return F.binary_cross_entropy(recon, x.reshape(recon.shape), reduction="sum") + kl_divergence(mu, logvar).sum()


def sample(model, n, device="cpu"):
    raise NotImplementedError("sample")
