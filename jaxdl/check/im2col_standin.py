"""A pure-numpy stand-in for the lab's compiled ``im2col_cython`` helper, with the same layout.

``im2col_cython(x, field_height, field_width, padding, stride)`` turns ``x (N, C, H, W)`` into
columns of shape ``(C·fh·fw, N·Ho·Wo)``: row ``c·fh·fw + i·fw + j`` holds the pixel at offset
``(i, j)`` of channel c, and column ``(yy·Wo + xx)·N + n`` is window ``(yy, xx)`` of example n.
``col2im_cython`` is its adjoint: it adds the columns back into an ``(N, C, H, W)`` array.
The lab's ``Convolution`` layer computes ``W (F, C·k·k) @ cols``, so these orders matter.
"""

from __future__ import annotations

import numpy as np


def _windows(x_padded, fh, fw, stride, out_h, out_w):
    n, c = x_padded.shape[:2]
    cols = np.empty((c, fh, fw, out_h, out_w, n), x_padded.dtype)
    for i in range(fh):
        for j in range(fw):
            patch = x_padded[:, :, i:i + stride * out_h:stride, j:j + stride * out_w:stride]
            cols[:, i, j] = patch.transpose(1, 2, 3, 0)
    return cols


def im2col_cython(x, field_height, field_width, padding, stride):
    x = np.asarray(x)
    n, c, h, w = x.shape
    out_h = (h + 2 * padding - field_height) // stride + 1
    out_w = (w + 2 * padding - field_width) // stride + 1
    p = padding
    x_padded = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)), mode="constant")
    cols = _windows(x_padded, field_height, field_width, stride, out_h, out_w)
    return cols.reshape(c * field_height * field_width, out_h * out_w * n)


def col2im_cython(cols, N, C, H, W, field_height, field_width, padding, stride):
    out_h = (H + 2 * padding - field_height) // stride + 1
    out_w = (W + 2 * padding - field_width) // stride + 1
    cols = np.asarray(cols).reshape(C, field_height, field_width, out_h, out_w, N)
    x_padded = np.zeros((N, C, H + 2 * padding, W + 2 * padding), cols.dtype)
    for i in range(field_height):
        for j in range(field_width):
            x_padded[:, :, i:i + stride * out_h:stride, j:j + stride * out_w:stride] += cols[:, i, j].transpose(3, 0, 1, 2)
    if padding:
        return x_padded[:, :, padding:-padding, padding:-padding]
    return x_padded
