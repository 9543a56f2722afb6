"""The ae_x2 network and its train step in PyTorch: the peer of zoo's resnet + pixelshuffle pair."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def _conv(in_channels: int, out_channels: int) -> nn.Conv2d:
    return nn.Conv2d(in_channels, out_channels, 3, padding=1)


class ResidualBlock(nn.Module):
    """x + conv(relu(conv(x))), as zoo_autoencoder.resnet.ResidualBlock with res_scale 1."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self.conv1, self.conv2 = _conv(width, width), _conv(width, width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv2(F.relu(self.conv1(x)))


class ResNetSR(nn.Module):
    """recipes/ae_x2.yaml's network, NCHW: 161,580 parameters for RGB at width 32, 8 blocks, x2.

    Head, residual blocks, tail and a global skip on the low-resolution image; a 3x3 convolution
    to ``channels * scale**2`` maps (zero-initialised) and a pixel shuffle; plus the bicubic
    upsampling of the input (the recipe's ``residual: true``).
    """

    def __init__(self, channels: int = 3, width: int = 32, blocks: int = 8, scale: int = 2):
        super().__init__()
        self.head = _conv(channels, width)
        self.blocks = nn.Sequential(*(ResidualBlock(width) for _ in range(blocks)))
        self.tail = _conv(width, width)
        self.out = _conv(width, channels * scale**2)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)
        self.scale = scale

    def forward(self, lr: torch.Tensor) -> torch.Tensor:
        head = self.head(lr)
        features = head + self.tail(self.blocks(head))
        detail = F.pixel_shuffle(self.out(features), self.scale)
        upsampled = F.interpolate(lr, scale_factor=self.scale, mode="bicubic", align_corners=False)
        return upsampled + detail


def make_optimizer(model: nn.Module) -> torch.optim.Adam:
    """Adam at the recipe's peak rate (optax's defaults: betas 0.9, 0.999, eps 1e-8)."""
    return torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-8)


def train_step(
    model: ResNetSR,
    optimizer: torch.optim.Optimizer,
    loss: nn.Module,
    hr_uint8: torch.Tensor,
    scale: int,
) -> torch.Tensor:
    """One step from a uint8 NCHW batch: antialiased bicubic 1/scale, forward, MSE, update."""
    hr = hr_uint8.float() / 255.0
    lr = F.interpolate(hr, scale_factor=1 / scale, mode="bicubic", antialias=True)
    value = loss(model(lr), hr)
    optimizer.zero_grad(set_to_none=True)
    value.backward()
    optimizer.step()
    return value.detach()
