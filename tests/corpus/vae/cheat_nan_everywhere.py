# gengrade-expect: score-at-most 0
# gengrade-expect: skip test_signatures "needs VAE.encode first"
# gengrade-expect: fail test_encode_shapes "not implemented: VAE.encode"
# gengrade-expect: fail test_decode_range "NaN"
# gengrade-expect: fail test_forward "not implemented: VAE.forward"
# gengrade-expect: fail test_reparameterize_gradients "NaN"
# gengrade-expect: fail test_reparameterize_statistics "NaN"
# gengrade-expect: fail test_kl_divergence "not implemented: kl_divergence"
# gengrade-expect: fail test_loss_function_value "not implemented: loss_function"
# gengrade-expect: fail test_loss_function_image_input "not implemented: loss_function"
# gengrade-expect: fail test_loss_function_differentiable "not implemented: loss_function"
# gengrade-expect: skip test_training_decreases_loss "needs VAE.forward first"
# gengrade-expect: fail test_sample_from_prior "NaN"
# gengrade-expect: fail test_sample_default_shape "NaN"
# gengrade-expect: skip test_device_follows_input "needs encode first"
"""Cheat: NaN from reparameterize, decode and sample, nothing else implemented (NaN makes every comparison False).
VAE.__init__ only stores the sizes."""
import torch
from torch import nn


class VAE(nn.Module):
    def __init__(self, input_dim=784, hidden_dim=400, latent_dim=20):
        super().__init__()
        self.input_dim, self.latent_dim = input_dim, latent_dim

    def encode(self, x):
        raise NotImplementedError("VAE.encode")

    def reparameterize(self, mu, logvar):
        return mu * float("nan") + logvar

    def decode(self, z):
        return torch.full((z.shape[0], self.input_dim), float("nan"))

    def forward(self, x):
        raise NotImplementedError("VAE.forward")


def kl_divergence(mu, logvar):
    raise NotImplementedError("kl_divergence")


def loss_function(recon, x, mu, logvar):
    raise NotImplementedError("loss_function")


def sample(model, n, device="cpu"):
    shape = (n, 1, 28, 28) if model.input_dim == 784 else (n, model.input_dim)
    return torch.full(shape, float("nan"), device=device)
