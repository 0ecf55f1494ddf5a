"""Quiz Q2: K×K average pooling with stride K, built from ``nn.Conv2d``."""

import torch
import torch.nn as nn


class ConvAvgPool2d(nn.Module):
    def __init__(self, channels, K):
        super(ConvAvgPool2d, self).__init__()
        self.K = K
        self.conv = nn.Conv2d(channels, channels, kernel_size=K, stride=K, padding=0, bias=False)
        # A module's weight must be an nn.Parameter; requires_grad=False keeps it fixed.
        self.conv.weight = nn.Parameter(self.init_weight(), requires_grad=False)

    def init_weight(self):
        '''Returns weight tensor of shape (c_out, c_in, K, K)'''
        weight = torch.zeros_like(self.conv.weight, requires_grad=False)
        for i in range(weight.shape[0]):
            weight[i, i] = 1.0 / self.K**2  # channel i averages its own K×K window only
        return weight

    def parameters(self, recurse=True):
        '''Returns layer's parameters'''
        return iter(())  # none is trainable: an optimizer gets an empty list

    def forward(self, x):
        ''''Performs forward pass'''
        return self.conv(x)
