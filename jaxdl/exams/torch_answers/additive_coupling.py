"""Quiz Q3: the additive coupling y1 = x1, y2 = x2 + h(x1), h = Conv1×1 ∘ ReLU, and its inverse."""

import torch
import torch.nn as nn


class AdditiveCoupling(nn.Module):
    def __init__(self, in_channels):
        # in_channels is C, the input's channel count (even); h maps C/2 channels to C/2.
        super(AdditiveCoupling, self).__init__()
        assert in_channels % 2 == 0, "C must be even"
        self.relu = nn.ReLU()
        self.conv = nn.Conv2d(in_channels // 2, in_channels // 2, kernel_size=1)

    def h(self, x1):
        return self.conv(self.relu(x1))

    def forward(self, x):
        x1, x2 = x.chunk(2, dim=1)
        y1 = x1
        y2 = x2 + self.h(x1)
        return torch.cat((y1, y2), dim=1)

    def inverse(self, y):
        # x1 = y1, so h(x1) = h(y1) is known: x2 = y2 − h(y1).
        y1, y2 = y.chunk(2, dim=1)
        x1 = y1
        x2 = y2 - self.h(y1)
        return torch.cat((x1, x2), dim=1)
