# gengrade-expect: fail test_mask_buffer "differs from the contract's mask"
# gengrade-expect: fail test_mask_type_a "that input is in a later row"
# gengrade-expect: fail test_mask_type_b "that input is in a later row"
# gengrade-expect: fail test_mask_kernel5 "that input is in a later row"
# gengrade-expect: fail test_mask_after_optimizer_step "that input is in a later row"
# gengrade-expect: fail test_pixelcnn_causal "can simply copy"
# gengrade-expect: fail test_pixelcnn_causal_after_training "can simply copy"
"""ONE BUG: the mask never zeroes the rows below the centre.

Otherwise as correct_hook_gated.py: PixelCNN whose masks are enforced by a forward pre-hook; ELU activations, a 1x1 head;
nll with a summed BCE divided by the batch size."""
import torch
import torch.nn as nn
import torch.nn.functional as F


def _enforce_mask(module, inputs):
    with torch.no_grad():
        module.weight.mul_(module.mask)


class MaskedConv2d(nn.Conv2d):
    def __init__(self, mask_type, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.register_buffer("mask", torch.ones_like(self.weight))
        _, _, h, w = self.weight.shape
        self.mask[:, :, h // 2, w // 2 + (mask_type == "B"):] = 0
        self.register_forward_pre_hook(_enforce_mask)


class PixelCNN(nn.Module):
    def __init__(self, in_channels=1, channels=64, n_layers=7, kernel_size=7):
        super().__init__()
        p = kernel_size // 2
        self.input = MaskedConv2d("A", in_channels, channels, kernel_size, padding=p)
        self.hidden = nn.ModuleList(
            MaskedConv2d("B", channels, channels, 3, padding=1) for _ in range(n_layers)
        )
        self.head = nn.Sequential(nn.ELU(), nn.Conv2d(channels, channels, 1), nn.ELU(),
                                  nn.Conv2d(channels, in_channels, 1))

    def forward(self, x):
        h = F.elu(self.input(x))
        for layer in self.hidden:
            h = F.elu(layer(h))
        return self.head(h)


def nll(model, x):
    return F.binary_cross_entropy_with_logits(model(x), x, reduction="sum") / x.shape[0]


def sample(model, n, shape=(1, 28, 28), device="cpu"):
    out = torch.zeros((n,) + tuple(shape), device=device)
    with torch.no_grad():
        for row in range(shape[1]):
            for col in range(shape[2]):
                logits = model(out)
                out[:, :, row, col] = torch.bernoulli(torch.sigmoid(logits[:, :, row, col]))
    return out
