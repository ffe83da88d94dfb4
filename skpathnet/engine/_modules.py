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
  channels ("same" zero padding) followed by 2 x 2 average pooling; ``k``
  gathered modules are one ``(k * n_channels, C_in, kernel_size,
  kernel_size)`` kernel bank, evaluated (convolution and pooling together)
  by one stride-2 ``conv2d`` (:func:`pooled_kernel`).

Each module is followed by a ReLU; the outputs of a layer's active modules are
averaged (:func:`skpathnet.engine.forward`). For convolutional modules the last
layer's feature maps, flattened or globally averaged, feed the task head.
"""

import math
from dataclasses import dataclass
from typing import NamedTuple

import torch
import torch.nn.functional as F

__all__ = ["ConvModules", "LinearModules", "Params", "pooled_kernel", "uniform"]


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


def pooled_kernel(weight):
    """The kernel of a convolution followed by 2 x 2 average pooling.

    ``avg_pool2d(conv2d(h, K, padding=p), 2)`` equals
    ``conv2d(h, pooled_kernel(K), stride=2, padding=p)``: each pooled output
    is the mean of four outputs of ``K`` one pixel apart, i.e. one output of
    the ``(ks + 1) x (ks + 1)`` kernel that is the mean of ``K`` at those four
    offsets. The fused form computes only the pooled outputs: for 3 x 3
    kernels, 16 instead of 4 x 9 = 36 multiply-adds per output and input
    channel (2.25x fewer), and pre-activations at a quarter of the
    resolution. Exact in exact arithmetic (float32: within 1e-6).

    Parameters
    ----------
    weight : torch.Tensor of shape (C_out, C_in, ks, ks)

    Returns
    -------
    torch.Tensor of shape (C_out, C_in, ks + 1, ks + 1)
    """
    k = F.pad(weight, (1, 1, 1, 1))
    return (k[..., :-1, :-1] + k[..., 1:, :-1] + k[..., :-1, 1:] + k[..., 1:, 1:]) * 0.25


def _pools(side):
    """Whether a conv layer pools maps of ``side`` = (S_h, S_w): not below 2 x 2."""
    return min(side) >= 2


def _pooled_side(side):
    """``(S_h, S_w)`` after one conv layer: halved (floor of odd sides) where it pools."""
    return tuple(s // 2 for s in side) if _pools(side) else tuple(side)


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

    def n_outputs(self, n_layers):
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

    def n_gathered(self, params):
        """Number of modules in gathered ``params`` (``len(bias) / H``)."""
        return len(params.bias) // self.n_units

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
        ``kernel_size // 2``.
    global_pooling : bool, default=False
        What feeds the task head: the last layer's feature maps flattened
        (False), or their global average, one value per channel (True).

    Notes
    -----
    Layer ``l`` maps ``(C_l, S, S)`` to ``(n_channels, S // 2, S // 2)``:
    per module ``conv -> 2 x 2 average pooling -> ReLU``, then the average of
    the active modules. Pooling before the non-linearity is the order of
    LeNet-5's subsampling layers [1]_; it makes convolution and pooling one
    linear map, evaluated as one stride-2 convolution with
    :func:`pooled_kernel` (2.25x fewer multiply-adds than a 3 x 3
    convolution at full resolution followed by pooling, the same values up
    to float32 rounding). Maps smaller than 2 x 2 are not pooled. Stacked
    layout: weight ``(M, n_channels, C_l, ks, ks)``, bias ``(M, n_channels)``;
    gathered layout of ``k`` modules: ``(k * n_channels, C_l, ks, ks)`` and
    ``(k * n_channels,)``. Weights are initialised U(-b, b) with
    b = sqrt(6 / fan_in), fan_in = ``C_l * ks * ks`` (He et al. 2015, [2]_),
    biases U(-1/sqrt(fan_in), 1/sqrt(fan_in)) as in ``torch.nn.Conv2d``.

    References
    ----------
    .. [1] Y. LeCun, L. Bottou, Y. Bengio and P. Haffner, "Gradient-based
       learning applied to document recognition", Proc. IEEE 86(11), 1998,
       Sec. II-B (layer S2: the four inputs are averaged, then squashed).
    .. [2] K. He, X. Zhang, S. Ren and J. Sun, "Delving deep into
       rectifiers", ICCV 2015, Sec. 2.2.
    """

    input_shape: tuple
    n_channels: int
    kernel_size: int
    global_pooling: bool = False
    kind = "conv"
    #: Bytes of pre-activations one chunk of rows may hold (see :meth:`rows_per_chunk`).
    chunk_bytes = 2 * 2**20

    def n_outputs(self, n_layers):
        """Width of the features that feed the task head after ``n_layers`` layers.

        ``n_channels`` with global average pooling, else ``n_channels * S_h * S_w``
        for the last layer's ``S_h x S_w`` maps (8 x 8 after three layers on
        64 x 64 images).
        """
        if self.global_pooling:
            return self.n_channels
        side = self.input_shape[1:]
        for _ in range(n_layers):
            side = _pooled_side(side)
        return self.n_channels * side[0] * side[1]

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

    def n_gathered(self, params):
        """Number of modules in gathered ``params`` (``len(bias) / n_channels``)."""
        return len(params.bias) // self.n_channels

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
        """Pooled pre-activations of the gathered modules, (rows, k * C, S // 2, S // 2).

        Convolution and 2 x 2 average pooling in one stride-2 convolution
        with :func:`pooled_kernel` (floor of odd sides, as ``avg_pool2d``);
        a plain convolution on maps smaller than 2 x 2, which are not pooled.
        """
        pad = self.kernel_size // 2
        if not _pools(h.shape[-2:]):
            return F.conv2d(h, params.weight, params.bias, padding=pad)
        return F.conv2d(h, pooled_kernel(params.weight), params.bias, stride=2, padding=pad)

    def readout(self, h):
        """The head's input: (rows, C, S, S) -> (rows, C) averaged, or (rows, C * S * S)."""
        return h.mean((2, 3)) if self.global_pooling else h.flatten(1)

    def rows_per_chunk(self, h, n_maps):
        """Rows of ``h`` evaluated together so a chunk's pre-activations stay small.

        A layer's pre-activations are ``n_maps * n_channels`` pooled feature
        maps per row: 128 KiB per 3 x 64 x 64 image for 4 modules of 8
        channels, 8 MiB for a batch of 64. Evaluated in one piece, such
        tensors are served by fresh ``mmap`` calls of the C allocator (glibc
        returns large freed blocks) whose page faults cost about as much as
        the convolution, and they do not stay in cache. Measured on that
        example (random data of EMO-DB's shape, serial tournament, 1 CPU
        thread, interleaved rounds): 46 ms per SGD step in one piece, 29 ms
        in chunks of 2 MiB (16 rows in layer 1), 28, 32 and 34 ms for 1, 0.5
        and 4 MiB. The results are those of the whole batch up to float32
        summation order.

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
        side = _pooled_side(h.shape[-2:])
        per_row = n_maps * self.n_channels * side[0] * side[1] * h.element_size()
        return max(1, self.chunk_bytes // per_row)
