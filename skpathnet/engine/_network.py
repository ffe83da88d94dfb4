"""The PathNet super-network: stacked modules, task heads, and layer-1 input modes.

A PathNet [1]_ is ``L`` layers of ``M`` modules; each task owns its final
(classification) layer, a :class:`TaskHead`. :class:`PathNetwork` stores
each layer's modules as one stacked tensor (see :mod:`._modules` for the
module types) and the frozen modules fixed by transfer.

Row-space training of the first layer
-------------------------------------
Every SGD update of a first-layer weight is ``W -= lr * X_b.T @ delta``, so
``W_t - W_0`` stays in the row space of the (standardised) training matrix
``X`` (n x d): ``W_t = W_0 + X.T @ C_t`` for some coefficients ``C_t``
(n x H per module). Then, for training row ``i``,
``X_i @ W_t = X_i @ W_0 + K_i @ C_t`` with the Gram matrix ``K = X @ X.T``,
and the update becomes ``C[b] -= lr * delta`` (a row update of the
mini-batch's coefficients, no GEMM). :class:`RowSpace` precomputes ``K``
(n x n) and the offset ``X @ W_0`` of every first-layer module (n x M*H)
once; a step then costs one ``(batch x n) @ (n x k*H)`` GEMM in layer 1
instead of two ``(batch x d) @ (d x k*H)`` GEMMs (forward and weight
gradient). :meth:`PathNetwork.materialize` writes ``W_0 + X.T @ C`` back at
the end, for prediction, state and freezing. This is the thin-SVD reduction
``X = U S V^T``, ``Z = X V``, ``W = W_0 + V A`` written in the dual
coordinates ``C = U S^-1 A`` (so ``Z @ A = K @ C``): it needs no SVD, holds
for rank-deficient ``X``, and replaces the weight-gradient GEMM ``Z_b.T @
delta`` by a row update. It is exact in exact arithmetic; in float32 the
results differ from the direct path by rounding (see
``tests/test_engine.py``). With weight decay (``TrainSettings.weight_decay``)
each step also scales ``W`` by ``1 - lr * wd``, which leaves the row space
unless ``W_0`` is scaled too: the network then keeps a per-module factor
``s`` (:attr:`PathNetwork.w0_scale`) with ``W_t = s_t * W_0 + X.T @ C_t``, so
the offset becomes ``s * (X @ W_0)`` and the form stays exact. It pays when
``n`` is well below ``d``: the layer-1 work per step drops by ``2 d / n`` (5.9x for EMO-DB's 4169
segments of 12288 features) and ``K`` costs ``4 n^2`` bytes.

References
----------
.. [1] C. Fernando et al., "PathNet: Evolution Channels Gradient Descent in
   Super Neural Networks", arXiv:1701.08734, 2017.
"""

import math
from typing import NamedTuple, Optional

import numpy as np
import torch

from ._modules import LinearModules, Params, uniform

__all__ = ["FROZEN_MODES", "Inputs", "PathNetwork", "RowSpace", "TaskHead", "active_modules"]


FROZEN_MODES = ("always", "genes")


def active_modules(genotype, frozen, mode="always"):
    """Active module indices of each layer for ``genotype`` and the frozen modules.

    Parameters
    ----------
    genotype : ndarray of shape (n_layers, n_active), int
        Module index of each gene; repeated indices count once.
    frozen : sequence of ndarray of int, length n_layers
        Frozen modules of each layer.
    mode : {"always", "genes"}, default="always"
        "always": every frozen module is active (Nguyen et al. 2020,
        Sec. 3.3: the fixed source pathway is always active on the target),
        so genes pointing at frozen modules add nothing. "genes": a frozen
        module is active only when a gene selects it (Fernando et al. 2017,
        Sec. 2: the fixed modules stay available to new pathways).

    Returns
    -------
    trainable, fixed : list of ndarray of int
        Per layer, the sorted distinct active modules that are trainable,
        and the active frozen ones ("always": ``frozen[l]`` as given;
        "genes": the sorted distinct frozen modules that genes select,
        possibly none).
    """
    if mode not in FROZEN_MODES:
        raise ValueError(f'frozen mode must be "always" or "genes"; got {mode!r}.')
    trainable, fixed = [], []
    for genes, frz in zip(genotype, frozen):
        trainable.append(np.setdiff1d(np.unique(genes), frz))
        if mode == "always":
            fixed.append(np.asarray(frz, dtype=np.int64))
        else:
            fixed.append(np.intersect1d(genes, frz).astype(np.int64))
    return trainable, fixed


class TaskHead:
    """A task's own final linear layer, ``n_inputs -> n_classes`` (not shared).

    Attributes
    ----------
    weight : torch.Tensor of shape (n_inputs, n_classes)
    bias : torch.Tensor of shape (n_classes,)
    """

    def __init__(self, n_inputs, n_classes, *, device, generator):
        bound = 1.0 / math.sqrt(n_inputs)
        self.weight = uniform((n_inputs, n_classes), bound, generator).to(device)
        self.bias = uniform((n_classes,), bound, generator).to(device)

    def state(self):
        """Return ``(weight, bias)`` as CPU float32 numpy arrays."""
        return self.weight.cpu().numpy(), self.bias.cpu().numpy()

    @classmethod
    def from_state(cls, state, *, device):
        head = cls.__new__(cls)
        head.weight = torch.as_tensor(np.array(state[0]), device=device)
        head.bias = torch.as_tensor(np.array(state[1]), device=device)
        return head


class Inputs(NamedTuple):
    """Inputs of the first layer, as the network's current mode needs them.

    Attributes
    ----------
    x : torch.Tensor of shape (n_samples, d) or (n_samples, n_train)
        The (standardised) feature rows in direct mode; in row-space mode
        their kernel rows ``x @ X_train.T``.
    offset : torch.Tensor of shape (n_samples, n_modules, n_units) or None
        Row-space mode: ``x @ W_0`` of every first-layer module.
    frozen_sum : torch.Tensor of shape (n_samples, n_units) or None
        ``frozen_mode="always"``: sum of the frozen first-layer modules'
        ReLU outputs (None: compute them from ``x``, direct mode only).
    frozen_outputs : torch.Tensor of shape (n_samples, n_frozen, n_units) or None
        ``frozen_mode="genes"``: the ReLU output of each frozen first-layer
        module, in the order of ``PathNetwork.frozen[0]``; a pathway sums
        the ones its genes select (None: compute them from ``x``, direct
        mode only).
    """

    x: torch.Tensor
    offset: Optional[torch.Tensor] = None
    frozen_sum: Optional[torch.Tensor] = None
    frozen_outputs: Optional[torch.Tensor] = None

    def rows(self, idx):
        """The rows ``idx`` (a tensor of indices) of every field."""
        pick = lambda t: None if t is None else t.index_select(0, idx)  # noqa: E731
        return Inputs(pick(self.x), pick(self.offset), pick(self.frozen_sum),
                      pick(self.frozen_outputs))

    @property
    def n_rows(self):
        """Number of rows (samples)."""
        return len(self.x)


class RowSpace:
    """Training rows ``X``, their Gram matrix and the layer-1 offsets ``X @ W_0``.

    Parameters
    ----------
    X : torch.Tensor of shape (n_samples, d), float32
    weight0 : torch.Tensor of shape (n_modules, d, n_units)
        First-layer weights at the start of training.

    Attributes
    ----------
    kernel : torch.Tensor of shape (n_samples, n_samples)
        ``X @ X.T``.
    offset : torch.Tensor of shape (n_samples, n_modules, n_units)
    """

    def __init__(self, X, weight0, *, batch_size=4096):
        self.X = X
        self.weight0 = weight0
        self.kernel, self.offset = self._encode(X, batch_size)

    def _encode(self, X, batch_size):
        M, d, H = self.weight0.shape
        w0 = self.weight0.permute(1, 0, 2).reshape(d, M * H)
        kernel = torch.empty(len(X), len(self.X), device=X.device)
        offset = torch.empty(len(X), M * H, device=X.device)
        for start in range(0, len(X), batch_size):
            rows = X[start : start + batch_size]
            torch.mm(rows, self.X.T, out=kernel[start : start + batch_size])
            torch.mm(rows, w0, out=offset[start : start + batch_size])
        return kernel, offset.view(len(X), M, H)

    def encode(self, X):
        """Kernel rows and offsets of new rows X (n_new, d)."""
        return self._encode(X, 4096)


class PathNetwork:
    """Stacked module parameters of a PathNet super-network.

    Parameters
    ----------
    modules : LinearModules or ConvModules
        The module type (and its sizes).
    n_layers, n_modules : int
        ``L`` and ``M``.
    device : torch.device
    generator : torch.Generator
        CPU generator for the initialisation (see the module type).
    frozen_mode : {"always", "genes"}, default="always"
        Which frozen modules a pathway uses (see :func:`active_modules`):
        "always" all of them (Nguyen et al. 2020, Sec. 3.3), "genes" those
        its genes select (Fernando et al. 2017, Sec. 2). Read by
        :meth:`~._pathway.Pathways.gather`, :meth:`bind` and :meth:`encode`.
    frozen_weight : float in (0, 1], default=1.0
        ``w``, the share of each active frozen module in its layer's
        average: a layer outputs ``(sum of the active trainable modules'
        outputs + w * sum of the active frozen ones') / (n_trainable + w *
        n_frozen)``. 1.0: the plain average of Nguyen et al. 2020 (Sec. 3.3)
        and Fernando et al. 2017 (Sec. 2). Not in either paper (issue 31's
        transfer levers). Because ReLU is positively homogeneous, ``w *
        relu(W x + b) = relu(w W x + w b)``: the frozen modules are gathered
        as copies scaled by ``w`` (:meth:`gather_frozen`), so the one forward
        pass and its backward need no change. Read like ``frozen_mode``.

    Attributes
    ----------
    layers : list of Params
        Per layer, the stacked weights and biases of its ``M`` modules.
    frozen : list of ndarray of int
        Per layer, the indices of frozen modules (not updated, unless a
        training run sets :attr:`~._sgd.TrainSettings.frozen_learning_rate`).
    frozen_mode : {"always", "genes"}
    frozen_weight : float
    row_space : RowSpace or None
        Set by :meth:`bind` with ``first_layer="row_space"`` until
        :meth:`materialize`; while set, the trainable first-layer
        parameters are the coefficients :attr:`coef`.
    coef : torch.Tensor of shape (n_modules, n_samples, n_units) or None
    w0_scale : torch.Tensor of shape (n_modules,) or None
        Row-space mode with weight decay (:meth:`enable_w0_scale`): the factor
        ``s`` of ``W = s * W_0 + X.T @ C`` of each first-layer module. None:
        ``s = 1`` (no weight decay), and the offsets are used unscaled.
    """

    def __init__(self, modules, n_layers, n_modules, *, device, generator,
                 frozen_mode="always", frozen_weight=1.0):
        if frozen_mode not in FROZEN_MODES:
            raise ValueError(
                f'frozen_mode must be "always" or "genes"; got {frozen_mode!r}.'
            )
        if not 0.0 < frozen_weight <= 1.0:
            raise ValueError(f"frozen_weight must be in (0, 1]; got {frozen_weight!r}.")
        self.frozen_mode = frozen_mode
        self.frozen_weight = float(frozen_weight)
        self.modules = modules
        self.n_modules = n_modules
        self.device = device
        self.layers = []
        for layer in range(n_layers):
            w, b = modules.init_layer(layer, n_modules, generator)
            self.layers.append(Params(w.to(device), b.to(device)))
        self.frozen = [np.zeros(0, dtype=np.int64) for _ in range(n_layers)]
        self.row_space = None
        self.coef = None
        self.w0_scale = None

    @property
    def n_layers(self):
        return len(self.layers)

    @property
    def n_outputs(self):
        """Width of the features that feed a task head (see the module types)."""
        return self.modules.n_outputs(self.n_layers)

    def _index(self, idx):
        return torch.as_tensor(idx, dtype=torch.long, device=self.device)

    # -- frozen modules -------------------------------------------------------
    def load_frozen(self, frozen, modules):
        """Overwrite and freeze modules.

        Parameters
        ----------
        frozen : list of ndarray of int
            Per layer, module indices to freeze.
        modules : list of tuple of ndarray
            Per layer, ``(W, b)`` stacked as in :attr:`layers`, in the order
            of ``frozen[l]``.
        """
        for stacked, idx, (w, b) in zip(self.layers, frozen, modules):
            idx_t = self._index(idx)
            stacked.weight[idx_t] = torch.as_tensor(w, device=self.device)
            stacked.bias[idx_t] = torch.as_tensor(b, device=self.device)
        self.frozen = [np.asarray(idx, dtype=np.int64) for idx in frozen]

    def module_state(self, modules):
        """Copy modules out as CPU numpy arrays (see :meth:`load_frozen`)."""
        out = []
        for stacked, idx in zip(self.layers, modules):
            idx_t = self._index(idx)
            out.append((stacked.weight[idx_t].cpu().numpy(), stacked.bias[idx_t].cpu().numpy()))
        return out

    def gather_frozen(self, layer, idx):
        """Frozen modules ``idx`` of ``layer`` gathered, as copies scaled by :attr:`frozen_weight`.

        ``w * relu(W x + b) = relu((w W) x + w b)`` for ``w > 0`` (both module
        types are linear before their ReLU), so the scaled copies give the
        weighted terms of the layer's average. With ``w = 1`` the copies are
        not scaled (bit-identical to unweighted modules).

        Parameters
        ----------
        layer : int
        idx : ndarray of int
            Network indices of frozen modules of ``layer``.

        Returns
        -------
        Params
            In the gathered layout of the module type; new tensors, never
            views of :attr:`layers`.
        """
        fixed = self.modules.gather(self.layers[layer], self._index(idx))
        if self.frozen_weight == 1.0:
            return fixed
        return Params(fixed.weight * self.frozen_weight, fixed.bias * self.frozen_weight)

    def frozen_first_layer_sum(self, X, *, batch_size=4096):
        """Sum of the frozen first-layer modules' ReLU outputs for every row of X.

        Each output is weighted by :attr:`frozen_weight` (the modules are
        those of :meth:`gather_frozen`).

        Parameters
        ----------
        X : torch.Tensor of shape (n_samples, n_features)

        Returns
        -------
        cache : torch.Tensor of shape (n_samples, n_units), or None if no
            first-layer module is frozen or the modules are not linear (a
            convolutional cache would be a full feature map per sample).
        """
        outputs = self.frozen_first_layer_outputs(X, batch_size=batch_size)
        return None if outputs is None else outputs.sum(1)

    def frozen_first_layer_outputs(self, X, *, batch_size=4096):
        """ReLU output of each frozen first-layer module for every row of X.

        What ``frozen_mode="genes"`` needs in row-space mode, where a
        pathway's frozen first-layer modules are its own and cannot be one
        precomputed sum (:meth:`frozen_first_layer_sum`).

        Parameters
        ----------
        X : torch.Tensor of shape (n_samples, n_features)

        Returns
        -------
        outputs : torch.Tensor of shape (n_samples, n_frozen, n_units), or
            None if no first-layer module is frozen or the modules are not
            linear. Module ``j`` is ``frozen[0][j]``, its output weighted by
            :attr:`frozen_weight` (:meth:`gather_frozen`).
        """
        idx = self.frozen[0]
        if len(idx) == 0 or not isinstance(self.modules, LinearModules):
            return None
        fixed = self.gather_frozen(0, idx)
        H = self.modules.n_units
        out = torch.empty(len(X), len(idx), H, device=self.device)
        with torch.no_grad():
            for start in range(0, len(X), batch_size):
                z = torch.relu(self.modules.apply(X[start : start + batch_size], fixed))
                out[start : start + batch_size] = z.view(len(z), len(idx), H)
        return out

    def _frozen_inputs(self, X):
        """The frozen first-layer fields of :class:`Inputs` for rows X, by ``frozen_mode``."""
        if self.frozen_mode == "genes":
            return {"frozen_outputs": self.frozen_first_layer_outputs(X)}
        return {"frozen_sum": self.frozen_first_layer_sum(X)}

    # -- training data --------------------------------------------------------
    def bind(self, X, *, first_layer="direct", train_frozen=False):
        """Training inputs for this network; optionally enter row-space mode.

        Parameters
        ----------
        X : torch.Tensor of shape (n_samples, n_features), float32
        first_layer : {"direct", "row_space"}, default="direct"
            "row_space" (linear modules only): train the first layer in the
            row space of X (see the module docstring) until
            :meth:`materialize`.
        train_frozen : bool, default=False
            True when the frozen modules will be trained
            (:attr:`~._sgd.TrainSettings.frozen_learning_rate` > 0): the
            frozen first-layer outputs are then not precomputed (they would
            go stale after the first step), and the forward pass computes
            them from the rows.

        Returns
        -------
        inputs : Inputs

        Raises
        ------
        ValueError
            If ``first_layer="row_space"`` and ``train_frozen`` with frozen
            first-layer modules: their inputs would be kernel rows, and
            their own weights cannot be trained from them.
        """
        if train_frozen and first_layer == "row_space" and len(self.frozen[0]):
            raise ValueError(
                "first_layer='row_space' cannot train frozen first-layer modules "
                "(train_frozen=True): their inputs would be kernel rows of the training "
                "matrix. Bind with first_layer='direct'."
            )
        frozen = {} if train_frozen else self._frozen_inputs(X)
        if first_layer == "direct":
            return Inputs(X, None, **frozen)
        if not isinstance(self.modules, LinearModules):
            raise ValueError("first_layer='row_space' needs linear modules.")
        self.row_space = RowSpace(X, self.layers[0].weight)
        M, _, H = self.layers[0].weight.shape
        self.coef = torch.zeros(M, len(X), H, device=self.device)
        return Inputs(self.row_space.kernel, self.row_space.offset, **frozen)

    def encode(self, X):
        """Inputs for evaluation on rows X (n, n_features) in the current mode.

        Direct mode gives the rows themselves (frozen modules computed from
        them); row-space mode gives kernel rows, offsets and the frozen sum
        (``frozen_mode="genes"``: each frozen module's outputs).
        """
        if self.row_space is None:
            return Inputs(X)
        kernel, offset = self.row_space.encode(X)
        return Inputs(kernel, offset, **self._frozen_inputs(X))

    def enable_w0_scale(self):
        """Row-space mode: track a factor ``s`` (ones at first) of each module's ``W_0``.

        Needed by weight decay, which scales ``W = s * W_0 + X.T @ C`` as a
        whole; see the module docstring.
        """
        if self.row_space is not None and self.w0_scale is None:
            self.w0_scale = torch.ones(self.n_modules, device=self.device)

    def materialize(self):
        """Leave row-space mode: ``W = s * W_0 + X.T @ C`` for the trainable modules."""
        if self.row_space is None:
            return
        M, n, H = self.coef.shape
        trained = np.setdiff1d(np.arange(M), self.frozen[0])
        if len(trained):  # none when every first-layer module is frozen
            idx = self._index(trained)
            coef = self.coef[idx].permute(1, 0, 2).reshape(n, -1)
            delta = (self.row_space.X.T @ coef).view(-1, len(trained), H).permute(1, 0, 2)
            if self.w0_scale is not None:
                self.layers[0].weight[idx] *= self.w0_scale[idx].view(-1, 1, 1)
            self.layers[0].weight[idx] += delta
        self.row_space = None
        self.coef = None
        self.w0_scale = None

    def first_layer_params(self):
        """Stacked trainable parameters of layer 1: weights, or row-space coefficients."""
        if self.row_space is None:
            return self.layers[0]
        return Params(self.coef, self.layers[0].bias)
