"""The DLI course autoencoder and its train step in PyTorch: the peer of zoo's dli pair."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def _conv(in_channels: int, out_channels: int) -> nn.Conv2d:
    """A 3x3 'same' convolution started as Keras starts one: Glorot-uniform kernel, zero bias."""
    conv = nn.Conv2d(in_channels, out_channels, 3, padding=1)
    nn.init.xavier_uniform_(conv.weight)
    nn.init.zeros_(conv.bias)
    return conv


def _l1_per_image(activations: list[torch.Tensor]) -> torch.Tensor:
    """Sum of |a| over each image's activations, averaged over the batch (as zoo and tf.keras)."""
    return sum(a.abs().flatten(1).sum(1).mean() for a in activations)


class DLI(nn.Module):
    """The DLI network (REFERENCE.md), NCHW: 1,110,403 parameters for RGB at ``width=64``."""

    def __init__(
        self, channels: int = 3, width: int = 64, dropout: float = 0.3, activity_l1: float = 0.0
    ) -> None:
        super().__init__()
        self.l1, self.l2 = _conv(channels, width), _conv(width, width)
        self.dropout = nn.Dropout(dropout)
        self.l4, self.l5 = _conv(width, 2 * width), _conv(2 * width, 2 * width)
        self.l7 = _conv(2 * width, 4 * width)
        self.l9, self.l10 = _conv(4 * width, 2 * width), _conv(2 * width, 2 * width)
        self.l13, self.l14 = _conv(2 * width, width), _conv(width, width)
        self.out = _conv(width, channels)
        self.activity_l1 = activity_l1

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(prediction, activity-L1 penalty); the penalty is 0 unless ``activity_l1`` is set."""
        l1 = F.relu(self.l1(x))
        l2 = F.relu(self.l2(l1))
        l3 = self.dropout(F.max_pool2d(l2, 2))
        l4 = F.relu(self.l4(l3))
        l5 = F.relu(self.l5(l4))
        l7 = F.relu(self.l7(F.max_pool2d(l5, 2)))
        l9 = F.relu(self.l9(F.interpolate(l7, scale_factor=2, mode="nearest")))
        l10 = F.relu(self.l10(l9))
        l13 = F.relu(self.l13(F.interpolate(l5 + l10, scale_factor=2, mode="nearest")))
        l14 = F.relu(self.l14(l13))
        y = F.relu(self.out(l14 + l2))
        if not self.activity_l1:
            return y, torch.zeros(())
        activations = [l1, l2, l4, l5, l7, l9, l10, l13, l14, y]
        return y, self.activity_l1 * _l1_per_image(activations)


def count_parameters(model: nn.Module) -> int:
    """The number of trainable scalars."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def make_optimizer(model: nn.Module) -> torch.optim.Adadelta:
    """Adadelta as the course: learning rate 1.0, rho 0.95 (eps 1e-6, optax's default too)."""
    return torch.optim.Adadelta(model.parameters(), lr=1.0, rho=0.95, eps=1e-6)


def degrade_and_upsample(hr: torch.Tensor, scale: int) -> torch.Tensor:
    """Bilinear 1/scale without antialiasing, then bilinear x scale back, clipped to [0, 1]."""
    resize = dict(mode="bilinear", align_corners=False, antialias=False)
    lr = F.interpolate(hr, scale_factor=1 / scale, **resize)
    return F.interpolate(lr, scale_factor=scale, **resize).clamp(0.0, 1.0)


def train_step(
    model: DLI,
    optimizer: torch.optim.Optimizer,
    loss: nn.Module,
    hr_uint8: torch.Tensor,
    scale: int,
) -> torch.Tensor:
    """One step from a uint8 NCHW batch: degrade, forward, MSE (+ penalty), backward, update."""
    hr = hr_uint8.float() / 255.0
    prediction, penalty = model(degrade_and_upsample(hr, scale))
    value = loss(prediction, hr) + penalty
    optimizer.zero_grad(set_to_none=True)
    value.backward()
    optimizer.step()
    return value.detach()
