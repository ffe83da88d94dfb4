"""Pathways through a PathNetwork: gather, the one forward pass, scatter.

:class:`Pathways` gathers the active modules of ``P >= 1`` pathways into
operator-ready leaf tensors, so that training (:mod:`._sgd`) and prediction
run the same :func:`forward` on them, then scatters the trained values back.
With ``P = 1`` it is one pathway (the serial tournament, and prediction).
With ``P > 1`` it holds the *union* of the pathways' trainable modules of
each layer, trained side by side (``tournament="parallel"``, the
synchronous form of the parallel evaluation of Fernando et al. 2017,
Sec. 2): layer 1 is evaluated once per step for the union on the shared
mini-batch, and layers 2..L run as one stacked batch of ``P * batch`` rows;
a module used by several pathways gets the sum of their gradients.

Frozen modules follow :attr:`~._network.PathNetwork.frozen_mode`: "always",
every frozen module of a layer is active in every pathway (one ``fixed``
tensor, the same for all); "genes", a pathway uses the frozen modules its
genes select, and with ``P > 1`` ``fixed`` holds their union with a
per-pathway mask (:attr:`GatheredLayer.fixed_mask`), as for the trainable
modules. The frozen modules are gathered as copies scaled by the network's
:attr:`~._network.PathNetwork.frozen_weight` ``w``, and a layer divides by
``n_trainable + w * n_frozen`` (:attr:`GatheredLayer.count`): the weighted
average of issue 31's lever, the plain one for ``w = 1``. They are written
back by :meth:`Pathways.scatter` only when a training run fine-tunes them
(:attr:`~._sgd.TrainSettings.frozen_learning_rate`).

Because only the active modules receive a gradient, plain SGD on the gathered
tensors is exactly SGD on the stacked network.
"""

from dataclasses import dataclass
from typing import NamedTuple, Optional, Union

import numpy as np
import torch

from ._modules import Params
from ._network import Inputs, active_modules
from ._probe import mark

__all__ = ["GatheredLayer", "LayerState", "Pathways", "forward"]


@dataclass
class GatheredLayer:
    """One layer of gathered pathways.

    Attributes
    ----------
    trainable : Params or None
        The trainable active modules (union over pathways), gathered.
    fixed : Params or None
        The active frozen modules (union over pathways), gathered as copies
        scaled by the network's ``frozen_weight`` ``w`` (updated only with
        a frozen learning rate, see :mod:`._sgd`).
    modules : ndarray of int
        Network indices of the modules in ``trainable``, in order.
    n_fixed : int
        Number of modules in ``fixed``.
    count : int, float or torch.Tensor of shape (P,)
        The divisor of each pathway's layer average: its number of distinct
        trainable modules plus ``w`` times its number of frozen ones (an
        int for one pathway when ``w = 1`` or none is frozen; a float
        tensor for ``P > 1``).
    mask : torch.Tensor of shape (P, len(modules)) or None
        ``mask[p, j] = 1`` when pathway ``p`` uses module ``modules[j]``;
        None for a single pathway (it uses all of them).
    fixed_mask : torch.Tensor of shape (P, n_fixed) or None
        ``frozen_mode="genes"`` with ``P > 1``: ``fixed_mask[p, j] = 1``
        when pathway ``p``'s genes select the ``j``-th module of ``fixed``;
        None when every pathway uses all of ``fixed``.
    fixed_slots : ndarray of int or None
        ``frozen_mode="genes"``: position of each module of ``fixed`` in
        the network's ``frozen[layer]`` (the columns of
        :attr:`~._network.Inputs.frozen_outputs` in layer 1); None with
        "always" (``fixed`` is all of ``frozen[layer]``).
    fixed_modules : ndarray of int or None
        Network indices of the modules in ``fixed``, in order (where
        :meth:`Pathways.scatter` writes them back); None for a pathway
        rebuilt from its saved state.
    """

    trainable: Optional[Params]
    fixed: Optional[Params]
    modules: np.ndarray
    n_fixed: int
    count: Union[int, float, torch.Tensor]
    mask: Optional[torch.Tensor] = None
    fixed_mask: Optional[torch.Tensor] = None
    fixed_slots: Optional[np.ndarray] = None
    fixed_modules: Optional[np.ndarray] = None


class LayerState(NamedTuple):
    """A layer of a pathway saved for prediction: all its modules gathered.

    ``weight`` and ``bias`` are CPU float32 arrays in the gathered layout of
    the module type (trainable modules first, then frozen, these scaled by
    the network's ``frozen_weight`` ``w``); ``count`` is the divisor of the
    layer's average, ``n_trainable + w * n_frozen``: the number of modules
    averaged (an int) when ``w = 1``, else a float.
    """

    weight: np.ndarray
    bias: np.ndarray
    count: Union[int, float]


class Trace(NamedTuple):
    """What the hand-written backward pass needs of one layer's forward."""

    inputs: torch.Tensor
    act_trainable: Optional[torch.Tensor]
    act_fixed: Optional[torch.Tensor]


class Pathways:
    """``P`` pathways' active modules of a network, as leaf tensors.

    Parameters
    ----------
    modules : LinearModules or ConvModules
    layers : list of GatheredLayer
    n_pathways : int

    Attributes
    ----------
    row_space : bool
        True when layer 1's trainable tensor holds row-space coefficients
        (inputs are then kernel rows, see :class:`~._network.RowSpace`).
    w0_scale : torch.Tensor of shape (len(layers[0].modules),) or None
        Row-space mode with weight decay: the factor ``s`` of ``W = s * W_0
        + X.T @ C`` of each trainable layer-1 module, gathered from
        :attr:`~._network.PathNetwork.w0_scale`; None: 1.
    frozen_weight : float
        ``w`` of the network's :attr:`~._network.PathNetwork.frozen_weight`:
        the factor of the gathered frozen modules (1.0 for pathways rebuilt
        from a saved state, where it is folded into the weights).
    """

    def __init__(self, modules, layers, n_pathways=1, *, network=None, row_space=False,
                 w0_scale=None, frozen_weight=1.0):
        self.modules = modules
        self.layers = layers
        self.n_pathways = n_pathways
        self.network = network
        self.row_space = row_space
        self.w0_scale = w0_scale
        self.frozen_weight = float(frozen_weight)

    @classmethod
    def gather(cls, network, genotypes):
        """Gather the modules of ``genotypes`` (a list of (L, N) int arrays).

        The frozen modules of each pathway follow ``network.frozen_mode``
        (see :func:`~._network.active_modules`) and are gathered as copies
        scaled by ``network.frozen_weight`` ``w``
        (:meth:`~._network.PathNetwork.gather_frozen`); each layer's count
        is ``n_trainable + w * n_frozen`` per pathway.
        """
        mode = network.frozen_mode
        w = network.frozen_weight
        own = [active_modules(g, network.frozen, mode) for g in genotypes]
        P = len(genotypes)
        device = network.device
        layers = []
        for layer in range(network.n_layers):
            union = np.unique(np.concatenate([tr[layer] for tr, _ in own]))
            slots, fixed_mask = None, None
            if mode == "always":
                fixed = np.asarray(network.frozen[layer], dtype=np.int64)
            else:
                fixed = np.unique(np.concatenate([fx[layer] for _, fx in own])).astype(np.int64)
                frz = np.asarray(network.frozen[layer], dtype=np.int64)
                order = np.argsort(frz, kind="stable")
                slots = order[np.searchsorted(frz, fixed, sorter=order)]
            stacked = network.first_layer_params() if layer == 0 else network.layers[layer]
            trainable = None
            if len(union):
                trainable = network.modules.gather(stacked, network._index(union))
            fx = None
            if len(fixed):
                fx = network.gather_frozen(layer, fixed)
            if P == 1:
                mask = None
                # w = 1 (or nothing frozen): the int count of the plain average
                count = (len(union) + len(fixed) if w == 1.0 or not len(fixed)
                         else len(union) + w * len(fixed))
            else:
                m = np.stack([np.isin(union, tr[layer]) for tr, _ in own])
                mask = torch.as_tensor(m, dtype=torch.float32, device=device)
                n_frozen = len(fixed)
                if mode == "genes":
                    fm = np.stack([np.isin(fixed, f[layer]) for _, f in own])
                    fixed_mask = torch.as_tensor(fm, dtype=torch.float32, device=device)
                    n_frozen = fm.sum(1)
                if w != 1.0:
                    n_frozen = w * n_frozen
                count = torch.as_tensor(m.sum(1) + n_frozen, dtype=torch.float32, device=device)
            layers.append(GatheredLayer(trainable, fx, union, len(fixed), count, mask,
                                        fixed_mask, slots, fixed))
        w0_scale = None
        if network.w0_scale is not None and layers[0].trainable is not None:
            w0_scale = network.w0_scale[network._index(layers[0].modules)]
        return cls(network.modules, layers, P, network=network,
                   row_space=network.row_space is not None, w0_scale=w0_scale,
                   frozen_weight=w)

    def scatter(self, *, frozen=False):
        """Write the trained modules back into the network.

        Parameters
        ----------
        frozen : bool, default=False
            Also write back the frozen modules (after training with a
            frozen learning rate, see :mod:`._sgd`), unscaled: ``W = V /
            w`` for the gathered copy ``V = w W`` (exact for ``w = 1`` and
            powers of two, else within float32 rounding). False: the
            network's frozen modules are left as they are.
        """
        net = self.network
        with torch.no_grad():
            for index, layer in enumerate(self.layers):
                if frozen and layer.fixed is not None:
                    fixed = layer.fixed
                    if self.frozen_weight != 1.0:
                        fixed = Params(fixed.weight / self.frozen_weight,
                                       fixed.bias / self.frozen_weight)
                    self.modules.scatter(net.layers[index], net._index(layer.fixed_modules),
                                         fixed)
                if layer.trainable is None:
                    continue
                stacked = net.first_layer_params() if index == 0 else net.layers[index]
                self.modules.scatter(stacked, net._index(layer.modules), layer.trainable)
                if index == 0 and self.w0_scale is not None:
                    net.w0_scale[net._index(layer.modules)] = self.w0_scale

    def state(self):
        """A single pathway as fixed CPU weights: a list of :class:`LayerState`.

        The frozen modules' ``frozen_weight`` stays folded into their
        weights, and the count is the weighted one, so :meth:`from_state`
        gives the same layer averages.
        """
        if self.n_pathways != 1 or self.row_space:
            raise ValueError("state() needs one pathway outside row-space mode.")
        out = []
        for layer in self.layers:
            parts = [p for p in (layer.trainable, layer.fixed) if p is not None]
            p = self.modules.concat([Params(q.weight.detach(), q.bias.detach()) for q in parts])
            out.append(LayerState(p.weight.cpu().numpy(), p.bias.cpu().numpy(), layer.count))
        return out

    @classmethod
    def from_state(cls, modules, state, *, device):
        """One pathway, all of its modules fixed, from :meth:`state`.

        ``count`` is kept as an int when it is one (the plain average),
        else as the float of a weighted average (``frozen_weight < 1``).
        """
        layers = []
        for w, b, k in state:
            params = Params(torch.as_tensor(w, device=device), torch.as_tensor(b, device=device))
            count = int(k) if float(k).is_integer() else float(k)
            layers.append(GatheredLayer(None, params, np.zeros(0, dtype=np.int64),
                                        modules.n_gathered(params), count))
        return cls(modules, layers, 1)

    def offset_rows(self, inputs):
        """Row-space offsets of the trainable layer-1 modules, (rows, U * H), or None."""
        layer = self.layers[0]
        if inputs.offset is None or layer.trainable is None:
            return None
        idx = torch.as_tensor(layer.modules, dtype=torch.long, device=inputs.offset.device)
        offset = inputs.offset.index_select(1, idx)
        if self.w0_scale is not None:  # W = s * W_0 + X.T @ C (weight decay)
            offset = offset * self.w0_scale.view(1, -1, 1)
        return offset.reshape(len(inputs.offset), -1)

    def logits(self, inputs, head, *, batch_size=4096):
        """Logits of shape (P * n_samples, n_classes) without gradients.

        Parameters
        ----------
        inputs : Inputs or torch.Tensor of shape (n_samples, n_features)
        """
        if isinstance(inputs, torch.Tensor):
            inputs = Inputs(inputs)
        out = [torch.zeros(0, head.bias.shape[0], device=head.bias.device)]
        with torch.no_grad():
            for start in range(0, inputs.n_rows, batch_size):
                rows = torch.arange(start, min(start + batch_size, inputs.n_rows),
                                    device=inputs.x.device)
                out.append(forward(self, head, inputs.rows(rows)))
        return torch.cat(out)


def _combine(act, layer, P, batch, shared):
    """Sum each pathway's active modules: (rows, U * unit) -> (P?, batch, *unit)."""
    U = len(layer.modules)
    per_module = act.view(act.shape[0], U, -1, *act.shape[2:])
    return _sum_modules(per_module, layer.mask, P, batch, shared)


def _sum_modules(per_module, mask, P, batch, shared):
    """Sum over modules: (rows, k, *unit) -> (rows, *unit), or with a mask (P, batch, *unit).

    ``mask`` (P, k) selects each pathway's modules (``rows`` is ``batch`` in
    layer 1, ``P * batch`` after it); None: every module, for every pathway.
    """
    if mask is None:
        return per_module.sum(1)
    if shared:  # layer 1: one batch for all pathways
        return torch.einsum("bu...,pu->pb...", per_module, mask)
    per_module = per_module.view(P, batch, *per_module.shape[1:])
    return torch.einsum("pbu...,pu->pb...", per_module, mask)


def forward(pathways, head, inputs, *, trace=None):
    """Logits of every pathway of ``pathways`` on a batch: the one forward pass.

    Training (:mod:`._sgd`, with or without autograd) and prediction both
    call this function. A layer whose pre-activations would be large
    (convolutional modules, see :meth:`~._modules.ConvModules.rows_per_chunk`)
    is evaluated on chunks of the batch, one after the other; linear modules
    (and any call with ``trace``) take the whole batch at once.

    Parameters
    ----------
    pathways : Pathways
    head : TaskHead
    inputs : Inputs
        A batch of ``batch`` rows (see :class:`~._network.Inputs`).
    trace : list or None
        If a list, one :class:`Trace` per layer is appended (for the
        hand-written backward pass of linear modules).

    Returns
    -------
    logits : torch.Tensor of shape (P * batch, n_classes)
        Pathway ``p``'s logits are rows ``p * batch .. (p + 1) * batch``.
    """
    kind = pathways.modules
    P, batch = pathways.n_pathways, inputs.n_rows
    h = kind.prepare(inputs.x)
    for index, layer in enumerate(pathways.layers):
        shared = index == 0
        n_maps = (0 if layer.trainable is None else len(layer.modules)) + layer.n_fixed
        chunk = None if trace is not None else kind.rows_per_chunk(h, n_maps * (1 if shared
                                                                           else P))
        if chunk is None or chunk >= batch:
            h = _layer(pathways, index, h, inputs, batch, trace)
            continue
        parts = []
        for start in range(0, batch, chunk):
            stop = min(start + chunk, batch)
            if shared or P == 1:
                h_c = h[start:stop]
            else:  # rows are (P, batch): the same batch columns of every pathway
                h_c = h.view(P, batch, *h.shape[1:])[:, start:stop].reshape(-1, *h.shape[1:])
            inputs_c = Inputs(*(None if t is None else t[start:stop] for t in inputs)) if shared \
                else None
            out = _layer(pathways, index, h_c, inputs_c, stop - start, None)
            parts.append(out.view(P, stop - start, *out.shape[1:]))
        h = torch.cat(parts, 1).view(P * batch, *parts[0].shape[2:])
    features = kind.readout(h)
    if trace is not None:
        trace.append(Trace(features, None, None))
    return torch.addmm(head.bias, features, head.weight)


def _layer(pathways, index, h, inputs, batch, trace):
    """Layer ``index`` of :func:`forward` on ``batch`` rows of input ``h``.

    ``inputs`` (the batch's :class:`~._network.Inputs`) is read by layer 1
    only. Returns the next layer's input, ``(P * batch, ...)``.
    """
    kind = pathways.modules
    layer = pathways.layers[index]
    P = pathways.n_pathways
    shared = index == 0
    total, a_t, a_f = None, None, None
    if layer.trainable is not None:
        z = kind.apply(h, layer.trainable)
        if shared:
            mark("layer1_forward")
            offset = pathways.offset_rows(inputs)
            if offset is not None:
                z = z + offset
        a_t = torch.relu_(z)  # z is this call's own tensor
        total = _combine(a_t, layer, P, batch, shared)
    if layer.fixed is not None:
        if shared and layer.fixed_slots is None and inputs.frozen_sum is not None:
            s_f = inputs.frozen_sum
        elif shared and layer.fixed_slots is not None and inputs.frozen_outputs is not None:
            slots = torch.as_tensor(layer.fixed_slots, dtype=torch.long, device=h.device)
            s_f = _sum_modules(inputs.frozen_outputs.index_select(1, slots), layer.fixed_mask,
                               P, batch, shared)
        else:
            if shared and pathways.row_space:
                raise ValueError(
                    "row-space inputs need the frozen first-layer sum (frozen_mode='always') "
                    "or outputs (frozen_mode='genes'): bind or encode the rows with the "
                    "network in the mode it is gathered in."
                )
            a_f = torch.relu_(kind.apply(h, layer.fixed))
            s_f = _sum_modules(a_f.view(a_f.shape[0], layer.n_fixed, -1, *a_f.shape[2:]),
                               layer.fixed_mask, P, batch, shared)
        if P > 1 and not shared and layer.fixed_mask is None:
            s_f = s_f.view(P, batch, *s_f.shape[1:])
        total = s_f if total is None else total + s_f
    if trace is not None:
        trace.append(Trace(h, a_t, a_f))
    if P == 1:
        return total / layer.count
    if layer.trainable is None and shared and layer.fixed_mask is None:
        # frozen modules only, all of them in every pathway: the same for all
        total = total.unsqueeze(0).expand(P, *total.shape)
    total = total.reshape(P * batch, *total.shape[2:])
    count = layer.count.repeat_interleave(batch).view(-1, *([1] * (total.dim() - 1)))
    return total / count
