# gengrade-expect: fail test_sample_format "sample"
"""ONE BUG: sample starts its canvas on a device picked inside the function
(`"cuda" if torch.cuda.is_available() else "cpu"`) instead of the `device` it is given.

Otherwise as correct_plain_stack.py: PixelCNN: a plain stack of masked convolutions, mask kept as a buffer and applied in forward."""
import torch
import torch.nn as nn
import torch.nn.functional as F


class MaskedConv2d(nn.Conv2d):
    def __init__(self, mask_type, in_channels, out_channels, kernel_size, **conv_kwargs):
        super().__init__(in_channels, out_channels, kernel_size, **conv_kwargs)
        assert mask_type in ("A", "B")
        kh, kw = self.weight.shape[2:]
        mask = torch.zeros_like(self.weight)
        mask[:, :, : kh // 2, :] = 1
        mask[:, :, kh // 2, : kw // 2] = 1
        if mask_type == "B":
            mask[:, :, kh // 2, kw // 2] = 1
        self.register_buffer("mask", mask)

    def forward(self, x):
        return F.conv2d(x, self.weight * self.mask, self.bias, self.stride, self.padding,
                        self.dilation, self.groups)


class PixelCNN(nn.Module):
    def __init__(self, in_channels=1, channels=64, n_layers=7, kernel_size=7):
        super().__init__()
        pad = kernel_size // 2
        layers = [MaskedConv2d("A", in_channels, channels, kernel_size, padding=pad), nn.ReLU()]
        for _ in range(n_layers - 1):
            layers += [MaskedConv2d("B", channels, channels, kernel_size, padding=pad), nn.ReLU()]
        layers.append(nn.Conv2d(channels, in_channels, 1))
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x)


def nll(model, x):
    logits = model(x)
    per_image = F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(dim=(1, 2, 3))
    return per_image.mean()


@torch.no_grad()
def sample(model, n, shape=(1, 28, 28), device="cpu"):
    c, h, w = shape
    device = "cuda" if torch.cuda.is_available() else "cpu"
    x = torch.zeros(n, c, h, w, device=device)
    for i in range(h):
        for j in range(w):
            probs = torch.sigmoid(model(x)[:, :, i, j])
            x[:, :, i, j] = torch.bernoulli(probs)
    return x


if __name__ == "__main__":
    model = PixelCNN()
    print(sample(model, 2).shape)
