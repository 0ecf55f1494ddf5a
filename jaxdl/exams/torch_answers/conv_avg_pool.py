"""Quiz Q2: K×K average pooling with stride K, built from ``nn.Conv2d``: the exam's skeleton
filled in, its given lines (``self.conv.weight = self.init_weight()``) kept."""

import torch
import torch.nn as nn


class ConvAvgPool2d(nn.Module):
    def __init__(self, channels, K):
        super(ConvAvgPool2d, self).__init__()
        self.K = K
        self.conv = nn.Conv2d(channels, channels, kernel_size=K, stride=K, padding=0, bias=False)
        self.conv.weight = self.init_weight()

    def init_weight(self):
        '''Returns weight tensor of shape (c_out, c_in, K, K)'''
        weight = torch.zeros_like(self.conv.weight)
        for i in range(weight.shape[0]):
            weight[i, i] = 1.0 / self.K**2  # channel i averages its own K×K window only
        # A module's weight must be an nn.Parameter; requires_grad=False keeps it out of training
        # (overriding parameters() alone would not: named_parameters() still lists the weight).
        return nn.Parameter(weight, requires_grad=False)

    def parameters(self, recurse=True):
        '''Returns layer's parameters'''
        return iter(())  # none is trainable: an optimizer gets an empty list

    def forward(self, x):
        '''Performs forward pass'''
        return self.conv(x)
