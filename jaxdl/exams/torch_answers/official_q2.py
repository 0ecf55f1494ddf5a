"""The official solution of quiz Q2, transcribed with only its syntax mended.

Mended: the missing ``)`` that closes ``nn.Conv2d(``, ``padding=O`` read as ``padding=0``, and
the indentation. Everything else is as printed, including ``init_weight`` returning a plain
tensor and ``parameters`` without ``self``. Constructing the class raises ``TypeError``: a
module's ``weight`` can only be set to an ``nn.Parameter`` (or ``None``).
"""

import torch
import torch.nn as nn


class ConvAvgPool2d(nn.Module):
    def __init__(self, channels, K):
        super(ConvAvgPool2d, self).__init__()
        self.K = K
        self.conv = nn.Conv2d(
            channels, channels, kernel_size=K, stride=K, padding=0, bias=False)
        self.conv.weight = self.init_weight()

    def init_weight(self):
        ''', Returns weight tensor of shape (c_out, c_in, K, K)'''
        weight = torch.zeros_like(self.conv.weight)
        for i in range(weight.shape[0]):
            weight[i, i] = torch.ones(self.K, self.K) / (self.K ** 2)
        return weight

    def parameters(recurse=True):
        return []

    def forward(self, x):
        return self.conv(x)
