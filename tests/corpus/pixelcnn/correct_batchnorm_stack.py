# gengrade-expect: full-marks
"""PixelCNN as in a widely copied public implementation: MaskedConv2d masks weight.data in place in every
forward, positional conv arguments, bias-free convolutions followed by BatchNorm2d and ReLU."""
import torch
from torch import nn
import torch.nn.functional as F


class MaskedConv2d(nn.Conv2d):
    def __init__(self, mask_type, *args, **kwargs):
        super(MaskedConv2d, self).__init__(*args, **kwargs)
        assert mask_type in {'A', 'B'}
        self.register_buffer('mask', self.weight.data.clone())
        _, _, kH, kW = self.weight.size()
        self.mask.fill_(1)
        self.mask[:, :, kH // 2, kW // 2 + (mask_type == 'B'):] = 0
        self.mask[:, :, kH // 2 + 1:] = 0

    def forward(self, x):
        self.weight.data *= self.mask
        return super(MaskedConv2d, self).forward(x)


class PixelCNN(nn.Module):
    def __init__(self, in_channels=1, channels=64, n_layers=7, kernel_size=7):
        super(PixelCNN, self).__init__()
        fm, p = channels, kernel_size // 2
        layers = [MaskedConv2d('A', in_channels, fm, kernel_size, 1, p, bias=False), nn.BatchNorm2d(fm), nn.ReLU(True)]
        for _ in range(n_layers - 1):
            layers += [MaskedConv2d('B', fm, fm, kernel_size, 1, p, bias=False), nn.BatchNorm2d(fm), nn.ReLU(True)]
        layers.append(nn.Conv2d(fm, in_channels, 1))
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x)


def nll(model, x):
    return F.binary_cross_entropy_with_logits(model(x), x, reduction='none').view(x.size(0), -1).sum(1).mean()


def sample(model, n, shape=(1, 28, 28), device="cpu"):
    model.eval()
    sample = torch.zeros(n, *shape, device=device)
    with torch.no_grad():
        for i in range(shape[1]):
            for j in range(shape[2]):
                out = model(sample)
                probs = torch.sigmoid(out[:, :, i, j])
                sample[:, :, i, j] = torch.bernoulli(probs)
    return sample
