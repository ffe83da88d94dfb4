"""Module types: how one layer's modules are stored, gathered and evaluated.

A PathNet layer holds ``M`` modules of one type, stored as one stacked
tensor per layer. A pathway *gathers* its active modules of a layer into one
operator-ready tensor (the modules side by side), so that all of them are
evaluated in **one** operation, never a Python loop over modules:

- :class:`LinearModules` (Nguyen et al. 2020, Sec. 3.3): a module is a
  fully connected layer of ``n_units`` units; ``k`` gathered modules are one
  ``(D_in, k * n_units)`` matrix, evaluated by one ``addmm``.
- :class:`ConvModules` (Fernando et al. 2017 used convolutional modules;
  Nguyen et al. 2020, end of Sec. 4.1, propose "convolution operation in each
  module rather than linear multiplication"): a module is a
  ``kernel_size x kernel_size`` convolution with ``n_channels`` output
  channels (stride 1, "same" zero padding); ``k`` gathered modules are one
  ``(k * n_channels, C_in, kernel_size, kernel_size)`` kernel bank,
  evaluated by one ``conv2d``.

Each module is followed by a ReLU; the outputs of a layer's active modules are
averaged (:func:`skpathnet.engine.forward`). For convolutional modules the
average is followed by a 2 x 2 average pooling (which commutes with the
average, so it is applied once per layer rather than once per module), and
global average pooling over the last feature map feeds the task head.
"""

import math
from dataclasses import dataclass
from typing import NamedTuple

import torch
import torch.nn.functional as F

__all__ = ["ConvModules", "LinearModules", "Params", "uniform"]


class Params(NamedTuple):
    """A weight and a bias: one module, a stack of modules, or gathered modules.

    Attributes
    ----------
    weight : torch.Tensor
    bias : torch.Tensor
    """

    weight: torch.Tensor
    bias: torch.Tensor


def uniform(shape, bound, generator):
    """U(-bound, bound) float32 samples drawn on CPU (so CPU and CUDA runs agree)."""
    return (torch.rand(shape, generator=generator) * 2 - 1) * bound


class _AvgPool2x2(torch.autograd.Function):
    """``F.avg_pool2d(h, 2)`` for even sides, as strided sums (same values).

    On CPU, torch's pooling kernels take 4x (forward) and 2x (backward)
    longer than these views for the small-channel maps of conv modules
    (8 x 8 x 64 x 64: 0.5 ms against 0.12 ms forward, 1 thread), and the
    pooling of layer 1 is then about a tenth of an SGD step.
    """

    @staticmethod
    def forward(ctx, h):
        n, c, rows, cols = h.shape
        pairs = h.reshape(n, c, rows, cols // 2, 2)
        h = pairs[..., 0] + pairs[..., 1]  # (n, c, rows, cols / 2)
        pairs = h.view(n, c, rows // 2, 2, cols // 2)
        return (pairs[:, :, :, 0] + pairs[:, :, :, 1]).mul_(0.25)

    @staticmethod
    def backward(ctx, g):
        n, c, rows, cols = g.shape
        g = (g * 0.25).unsqueeze(-1).expand(n, c, rows, cols, 2).reshape(n, c, rows, 2 * cols)
        return g.unsqueeze(3).expand(n, c, rows, 2, 2 * cols).reshape(n, c, 2 * rows, 2 * cols)


@dataclass(frozen=True)
class LinearModules:
    """Fully connected modules of ``n_units`` units on flat inputs.

    Parameters
    ----------
    n_features : int
        Input dimensionality ``D`` of layer 1 (12288 for a 3 x 64 x 64 image).
    n_units : int
        ``H``, units per module (Nguyen et al. 2020, Sec. 3.3: 20).

    Notes
    -----
    Stacked layout of layer ``l``: weight ``(M, D_l, H)``, bias ``(M, H)``;
    gathered layout of ``k`` modules: ``(D_l, k * H)`` and ``(k * H,)``. The
    initialisation is that of ``torch.nn.Linear``: U(-1/sqrt(fan_in),
    1/sqrt(fan_in)) for weight and bias.
    """

    n_features: int
    n_units: int
    kind = "linear"

    @property
    def n_outputs(self):
        """Width of the features that feed the task head (``H``)."""
        return self.n_units

    def init_layer(self, layer, n_modules, generator):
        fan_in = self.n_features if layer == 0 else self.n_units
        bound = 1.0 / math.sqrt(fan_in)
        weight = uniform((n_modules, fan_in, self.n_units), bound, generator)
        bias = uniform((n_modules, self.n_units), bound, generator)
        return weight, bias

    def gather(self, stacked, idx):
        weight = stacked.weight[idx].permute(1, 0, 2).reshape(-1, len(idx) * self.n_units)
        return Params(weight.contiguous(), stacked.bias[idx].reshape(-1))

    def scatter(self, stacked, idx, params):
        k = len(idx)
        stacked.weight[idx] = params.weight.detach().view(-1, k, self.n_units).permute(1, 0, 2)
        stacked.bias[idx] = params.bias.detach().view(k, self.n_units)

    def concat(self, parts):
        """Gathered parameters side by side (trainable, then frozen)."""
        return Params(torch.cat([p.weight for p in parts], 1), torch.cat([p.bias for p in parts]))

    def prepare(self, x):
        return x

    def apply(self, h, params):
        """Pre-activations of the gathered modules, shape (rows, k * H)."""
        return torch.addmm(params.bias, h, params.weight)

    def after_layer(self, h):
        return h

    def readout(self, h):
        return h

    def rows_per_chunk(self, h, n_maps):
        """None: a layer of linear modules runs on all rows at once."""
        return None


@dataclass(frozen=True)
class ConvModules:
    """Convolutional modules on images.

    Parameters
    ----------
    input_shape : tuple of int
        ``(C, H, W)`` of one input image, e.g. ``(3, 64, 64)``.
    n_channels : int
        Output channels (kernels) of each module.
    kernel_size : int
        Odd side of the square kernels; "same" zero padding
        ``kernel_size // 2``, stride 1.

    Notes
    -----
    Layer ``l`` maps ``(C_l, S, S)`` to ``(n_channels, S // 2, S // 2)``:
    ``conv -> ReLU`` per module, the average of the active modules, then 2 x 2
    average pooling. Stacked layout: weight ``(M, n_channels, C_l, ks, ks)``,
    bias ``(M, n_channels)``; gathered layout of ``k`` modules:
    ``(k * n_channels, C_l, ks, ks)`` and ``(k * n_channels,)``. The
    initialisation U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in =
    ``C_l * ks * ks``, is the default of ``torch.nn.Conv2d``.
    """

    input_shape: tuple
    n_channels: int
    kernel_size: int
    kind = "conv"
    #: Bytes of pre-activations one chunk of rows may hold (see :meth:`rows_per_chunk`).
    chunk_bytes = 2 * 2**20

    @property
    def n_outputs(self):
        return self.n_channels

    def init_layer(self, layer, n_modules, generator):
        c_in = self.input_shape[0] if layer == 0 else self.n_channels
        ks = self.kernel_size
        fan_in = c_in * ks * ks
        # He et al. (2015): uniform with variance 2 / fan_in keeps the ReLU
        # signal's scale through the layers; torch's Conv2d default (variance
        # 1 / (3 fan_in)) shrinks it 6x per layer, and with averaged modules
        # and global pooling the head then sees almost constant features.
        weight = uniform((n_modules, self.n_channels, c_in, ks, ks), math.sqrt(6.0 / fan_in),
                         generator)
        bias = uniform((n_modules, self.n_channels), 1.0 / math.sqrt(fan_in), generator)
        return weight, bias

    def gather(self, stacked, idx):
        w = stacked.weight[idx]
        return Params(w.reshape(-1, *w.shape[2:]).contiguous(), stacked.bias[idx].reshape(-1))

    def scatter(self, stacked, idx, params):
        k = len(idx)
        w = params.weight.detach()
        stacked.weight[idx] = w.view(k, self.n_channels, *w.shape[1:])
        stacked.bias[idx] = params.bias.detach().view(k, self.n_channels)

    def concat(self, parts):
        return Params(torch.cat([p.weight for p in parts]), torch.cat([p.bias for p in parts]))

    def prepare(self, x):
        """Flat rows of shape (rows, C*H*W) viewed as images (rows, C, H, W)."""
        return x.view(len(x), *self.input_shape)

    def apply(self, h, params):
        """Pre-activations of the gathered modules, shape (rows, k * C, S, S)."""
        return F.conv2d(h, params.weight, params.bias, padding=self.kernel_size // 2)

    def after_layer(self, h):
        """2 x 2 average pooling (floor of odd sides), none below 2 x 2."""
        if min(h.shape[-2:]) < 2:
            return h
        if h.shape[-2] % 2 or h.shape[-1] % 2:
            return F.avg_pool2d(h, 2)
        return _AvgPool2x2.apply(h)

    def readout(self, h):
        """Global average pooling: (rows, C, S, S) -> (rows, C)."""
        return h.mean((2, 3))

    def rows_per_chunk(self, h, n_maps):
        """Rows of ``h`` evaluated together so a chunk's pre-activations stay small.

        A layer's pre-activations are ``n_maps * n_channels`` feature maps per
        row: 512 KiB per 3 x 64 x 64 image for 4 modules of 8 channels, 32 MiB
        for a batch of 64. Evaluated in one piece, every such tensor is a
        fresh ``mmap`` of the C allocator (glibc serves requests of 32 MiB and
        more that way, and returns large freed blocks), and faulting its pages
        in costs more than the convolution itself. Measured on that example
        (``benchmarks/bench_engine.py --only conv``, 1 CPU thread): 150-180 ms
        per SGD step in one piece, 55-78 ms in chunks of 2 MiB (4 rows in
        layer 1), against 63-103 ms for 1, 4, 8 or 16 MiB. The results are
        those of the whole batch up to float32 summation order.

        Parameters
        ----------
        h : torch.Tensor of shape (rows, C_in, S, S)
            The layer's input.
        n_maps : int
            Modules evaluated per row (trainable and frozen, times the
            pathways that share the rows).

        Returns
        -------
        int
            At least 1; at most :attr:`chunk_bytes` of pre-activations.
        """
        per_row = n_maps * self.n_channels * h.shape[-2] * h.shape[-1] * h.element_size()
        return max(1, self.chunk_bytes // per_row)
