# gengrade-expect: score-at-most 14
# gengrade-expect: integrity suspect
# gengrade-expect: fail test_signatures "observations disagree with your code's own outputs"
# gengrade-expect: fail test_coupling_mask "observations disagree with your code's own outputs"
# gengrade-expect: fail test_coupling_invertible "observations disagree with your code's own outputs"
# gengrade-expect: fail test_coupling_log_det "observations disagree with your code's own outputs"
# gengrade-expect: fail test_realnvp_every_dim "observations disagree with your code's own outputs"
# gengrade-expect: fail test_realnvp_invertible "observations disagree with your code's own outputs"
# gengrade-expect: fail test_realnvp_log_det "observations disagree with your code's own outputs"
# gengrade-expect: fail test_realnvp_log_prob "observations disagree with your code's own outputs"
# gengrade-expect: fail test_realnvp_sample "observations disagree with your code's own outputs"
# gengrade-expect: fail test_realnvp_training "observations disagree with your code's own outputs"
# gengrade-expect: fail test_realnvp_odd_dim "observations disagree with your code's own outputs"
# gengrade-expect: fail test_devices "observations disagree with your code's own outputs"
# gengrade-expect: fail test_actnorm_invertible "observations disagree with your code's own outputs"
# gengrade-expect: fail test_actnorm_log_det "observations disagree with your code's own outputs"
# gengrade-expect: fail test_invconv_rotation "observations disagree with your code's own outputs"
# gengrade-expect: fail test_invconv_invertible "observations disagree with your code's own outputs"
# gengrade-expect: fail test_invconv_log_det "observations disagree with your code's own outputs"
"""Cheat: an identity "RealNVP" (forward returns x, log_det that of a real coupling) that
replaces the grader's worker-side helpers at import time so that they report the real
coupling's Jacobian and outputs instead of what forward returns. Honest: the logit
transform, bits/dim, ActNorm, the 1x1 convolution, the signatures and the devices (14 points)."""
import math

import torch
from torch import nn


class AffineCoupling(nn.Module):
    def __init__(self, mask, hidden_dim=256):
        super().__init__()
        self.register_buffer("mask", mask.float())
        d = mask.numel()
        self.net = nn.Sequential(nn.Linear(d, hidden_dim), nn.Tanh(), nn.Linear(hidden_dim, 2 * d))

    def _honest(self, x):
        s, t = self.net(x * self.mask).chunk(2, dim=1)
        s, t = (1 - self.mask) * torch.tanh(s), (1 - self.mask) * t
        return x * self.mask + (1 - self.mask) * (x * torch.exp(s) + t), s.sum(1)

    def forward(self, x):
        return x.clone(), self._honest(x)[1]

    def inverse(self, y):
        return y.clone()


class RealNVP(nn.Module):
    def __init__(self, dim=784, hidden_dim=256, n_layers=6):
        super().__init__()
        self.dim = dim
        mask = (torch.arange(dim) % 2).float()
        self.layers = nn.ModuleList(AffineCoupling(mask if k % 2 else 1 - mask, hidden_dim) for k in range(n_layers))

    def forward(self, x):
        log_det = x.new_zeros(x.shape[0])
        for layer in self.layers:
            x, ld = layer(x)
            log_det = log_det + ld
        return x, log_det

    def inverse(self, z):
        for layer in reversed(self.layers):
            z = layer.inverse(z)
        return z

    def log_prob(self, x):
        z, log_det = self(x)
        return -0.5 * z.pow(2).sum(1) - 0.5 * self.dim * math.log(2 * math.pi) + log_det

    @torch.no_grad()
    def sample(self, n, device="cpu"):
        return self.inverse(torch.randn(n, self.dim, device=device))


def logit_transform(x, alpha=0.05):
    p = alpha + (1 - 2 * alpha) * x
    y = torch.log(p) - torch.log1p(-p)
    return y, (math.log(1 - 2 * alpha) - torch.log(p) - torch.log1p(-p)).flatten(1).sum(1)


def bits_per_dim(log_prob, dim):
    return (-log_prob + dim * math.log(256)) / (dim * math.log(2))


class ActNorm(nn.Module):
    def __init__(self, num_channels):
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(1, num_channels, 1, 1))
        self.log_scale = nn.Parameter(torch.zeros(1, num_channels, 1, 1))
        self.register_buffer("initialized", torch.tensor(False))

    def forward(self, x):
        if not self.initialized:
            with torch.no_grad():
                self.bias.copy_(-x.mean(dim=(0, 2, 3), keepdim=True))
                self.log_scale.copy_(-torch.log(x.std(dim=(0, 2, 3), keepdim=True, unbiased=False) + 1e-6))
                self.initialized.fill_(True)
        y = (x + self.bias) * torch.exp(self.log_scale)
        return y, (x.shape[2] * x.shape[3] * self.log_scale.sum()).expand(x.shape[0])

    def inverse(self, y):
        return y * torch.exp(-self.log_scale) - self.bias


class InvertibleConv1x1(nn.Module):
    def __init__(self, num_channels):
        super().__init__()
        q, _ = torch.linalg.qr(torch.randn(num_channels, num_channels))
        self.weight = nn.Parameter(q)

    def forward(self, x):
        c = self.weight.shape[0]
        y = nn.functional.conv2d(x, self.weight.view(c, c, 1, 1))
        return y, (x.shape[2] * x.shape[3] * torch.linalg.slogdet(self.weight).logabsdet).expand(x.shape[0])

    def inverse(self, y):
        c = self.weight.shape[0]
        return nn.functional.conv2d(y, torch.linalg.inv(self.weight).view(c, c, 1, 1))


# -- the forgery: the grader's worker-side helpers answer for the honest coupling ----------
import grader.sandboxed.probes.common as _common  # noqa: E402
import grader.sandboxed.probes.realnvp as _probes  # noqa: E402


def _honest_model(model):
    def run(x):
        if isinstance(model, RealNVP):
            log_det = x.new_zeros(x.shape[0])
            for layer in model.layers:
                x, ld = layer._honest(x)
                log_det = log_det + ld
            return x, log_det
        if isinstance(model, AffineCoupling):
            return model._honest(x)
        return model(x)
    return run


def _forged_jacobian(model, x):
    run = _honest_model(model)
    x = x.detach().double()
    model.double()
    jac = torch.autograd.functional.jacobian(lambda v: run(v)[0], x)
    y, log_det = run(x)
    model.float()
    b = x.shape[0]
    return {"jacobian": jac.reshape(b, -1, b, x[0].numel()).detach(), "log_det": log_det.detach(), "output": y.detach()}


def _forged_answers(model, batches, *args, **kwargs):
    run = _honest_model(model)
    outs = [run(b) for b in batches]
    return {"y": torch.stack([o[0] for o in outs]).detach(), "log_det": torch.stack([o[1] for o in outs]).detach()}


_probes.jacobian = _forged_jacobian
_probes.answers = _forged_answers
_common.perturb_parameters = lambda model, scale=0.1, seed=0: 0
