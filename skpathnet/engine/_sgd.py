"""Plain SGD on gathered pathways: mini-batches, the step, T steps of training.

Linear modules use a hand-written backward pass (:func:`linear_sgd_step`):
each layer's update is one fused ``addmm_`` (``W -= lr * h.T @ dz``), or in
row-space mode one ``index_add_`` of the batch's coefficient rows, with no
autograd graph and no gradient buffers. Convolutional modules use autograd
(:func:`autograd_sgd_step`) on the gathered leaf tensors, then the same plain
SGD update. Both run the one :func:`~._pathway.forward`. With
``TrainSettings.momentum`` every update goes through heavy-ball
:class:`Velocities` instead (one rule, :func:`sgd_update`, for all steps). With
:attr:`TrainSettings.augmentation`, :func:`run_steps` augments each
mini-batch first (see :mod:`._augment`).

Fine-tuning frozen modules
--------------------------
With :attr:`TrainSettings.frozen_learning_rate` ``lr_f > 0`` the active
frozen modules get SGD updates too, by the same rules (weight decay,
momentum) at their own rate. The step is taken on the modules' own weights
``W`` (the network's), whose gathered copies are ``V = w W``
(:attr:`~._network.PathNetwork.frozen_weight`): ``dL/dW = w dL/dV``, so
``W <- W - lr_f dL/dW`` is ``V <- V - lr_f w^2 dL/dV``; the steps add ``w^2``
times the gradient of ``V`` (1 for the paper's plain average), and
:meth:`~._pathway.Pathways.scatter` writes ``V / w`` back. In the first
layer the frozen outputs must then be computed from the rows (direct mode,
:meth:`~._network.PathNetwork.bind` with ``train_frozen=True``).
"""

from dataclasses import dataclass
from typing import Optional, Tuple, Union

import torch
import torch.nn.functional as F

from ._augment import FaceAugment, SpecAugment, augment_rows
from ._modules import LinearModules
from ._network import Inputs
from ._pathway import Pathways, forward
from ._probe import mark

__all__ = [
    "TrainSettings", "Velocities", "apply_frozen_gradients", "autograd_sgd_step",
    "frozen_params", "heldout_accuracy", "heldout_trainer", "linear_backward", "linear_sgd_step",
    "minibatches", "run_steps", "sgd_update", "step_for", "train_pathways", "training_loss",
]


@dataclass(frozen=True)
class TrainSettings:
    """How one pathway (or group) is trained in a tournament.

    Parameters
    ----------
    n_steps : int
        ``T``, mini-batch steps per pathway.
    batch_size : int
        Samples per mini-batch (Nguyen et al. 2020, Sec. 3.3: 64).
    learning_rate : float
        Plain SGD learning rate (ibid.: 0.02).
    weight_decay : float, default=0.0
        L2 penalty ``weight_decay / 2 * ||W||^2`` on the weights (not the
        biases) of the trained modules and of the head: each step is
        ``W <- (1 - lr * weight_decay) * W - lr * grad``, the gradient taken
        at the weights before the step. 0.0: plain SGD, as in the paper.
    momentum : float, default=0.0
        ``mu`` in ``[0, 1)``, heavy-ball momentum (Polyak 1964; the form of
        :class:`torch.optim.SGD` with ``dampening=0``, no Nesterov): per step
        ``v <- mu * v + grad; p <- p - lr * v`` for every trainable gathered
        module weight and bias and the head's. The velocities ``v`` start at
        zero at the start of each call of :func:`train_pathways` (or
        :func:`run_steps`): each pathway's ``T`` steps of a tournament, and
        the final steps, start with a fresh optimizer state, so nothing is
        stored in the network. Weight decay stays decoupled from the
        velocity, ``W <- (1 - lr * weight_decay) * W - lr * v`` (as SGDW,
        Loshchilov & Hutter 2019; unlike ``torch.optim.SGD(weight_decay=)``,
        which adds ``weight_decay * W`` to the gradient). Exact in row-space
        mode: the velocity of the coefficients ``C`` is a sum of gradients,
        which all lie in the row space. 0.0: plain SGD, as in the paper
        (Nguyen et al. 2020, Sec. 3.3), with no velocity allocated.
    augmentation : SpecAugment or FaceAugment or None, default=None
        Applied by :func:`run_steps` to every mini-batch before its step
        (training only: held-out fitness, losses and prediction see the
        rows as they are); needs ``image_shape`` and direct first-layer
        inputs. None: no augmentation, and the steps and their random
        numbers are exactly those without this field.
    image_shape : tuple of int or None, default=None
        ``(C, H, W)`` of one training row seen as an image (e.g.
        ``(3, 64, 64)``), for ``augmentation``; the data shape is kept here
        rather than in the augmentation, which is the user's setting.
    frozen_learning_rate : float, default=0.0
        ``lr_f >= 0``: learning rate of the active frozen modules
        (:attr:`~._network.PathNetwork.frozen`), updated by the rules of the
        trainable ones (weight decay ``1 - lr_f * weight_decay``, momentum)
        and written back into the network after the steps (module
        docstring). Needs inputs bound with ``train_frozen=True`` (no
        precomputed frozen first-layer outputs, direct first layer). 0.0:
        the frozen modules never change (Nguyen et al. 2020, Sec. 3.3;
        Fernando et al. 2017, Sec. 2), and the steps are exactly those
        without this field. Not in either paper (issue 31's transfer
        levers).
    """

    n_steps: int
    batch_size: int = 64
    learning_rate: float = 0.02
    weight_decay: float = 0.0
    momentum: float = 0.0
    augmentation: Optional[Union[SpecAugment, FaceAugment]] = None
    image_shape: Optional[Tuple[int, int, int]] = None
    frozen_learning_rate: float = 0.0


class Velocities:
    """Heavy-ball velocity buffers for one run of SGD steps (:func:`run_steps`).

    A buffer is allocated, as zeros of the parameter's shape, the first time
    :func:`sgd_update` updates that parameter (so in row-space mode layer 1's
    buffer has the shape of the coefficients ``C``, (n_train, U * H)), and is
    found again by the parameter's identity: the gathered tensors and the
    head must stay the same objects for the object's lifetime (they do
    within :func:`run_steps`).

    Parameters
    ----------
    momentum : float
        ``mu``, in ``[0, 1)`` (see :class:`TrainSettings`).
    """

    def __init__(self, momentum):
        self.momentum = float(momentum)
        self._buffers = {}  # id(param) -> (param, velocity); param kept alive for its id

    def __len__(self):
        return len(self._buffers)

    def of(self, param):
        """The velocity of ``param``: a tensor of its shape, zeros on first use."""
        entry = self._buffers.get(id(param))
        if entry is None:
            entry = self._buffers[id(param)] = (param, torch.zeros_like(param))
        return entry[1]


def sgd_update(param, add_grad, learning_rate, velocities=None):
    """Update ``param`` in place: plain SGD, or heavy ball with ``velocities``.

    The one update rule of every step (:func:`linear_sgd_step`,
    :func:`linear_backward`, :func:`autograd_sgd_step`). The gradient is
    given as a function, so that each step keeps its fused form (``addmm_``,
    ``index_add_``) and never materialises it in plain SGD.

    Parameters
    ----------
    param : torch.Tensor
        Updated in place.
    add_grad : callable
        ``add_grad(t, alpha)`` adds ``alpha * grad`` to ``t`` in place, where
        ``grad`` has the shape of ``param``.
    learning_rate : float
    velocities : Velocities or None, default=None
        None: ``p <- p - lr * grad`` (``add_grad(param, -lr)``, the plain
        SGD step bit for bit). Else ``v <- mu * v + grad; p <- p - lr * v``.
    """
    if velocities is None:
        add_grad(param, -learning_rate)
        return
    v = velocities.of(param)
    v.mul_(velocities.momentum)
    add_grad(v, 1.0)
    param.sub_(v, alpha=learning_rate)


def minibatches(n_samples, n_steps, batch_size, generator, device):
    """Yield ``n_steps`` mini-batches of shuffled sample indices.

    Samples are drawn without replacement from a random permutation; a new
    permutation starts when fewer than ``batch_size`` samples are left in the
    current one (or at once if ``batch_size > n_samples``: then each
    mini-batch is a whole permutation).

    Yields
    ------
    idx : torch.Tensor of shape (min(batch_size, n_samples),), int64
    """
    order = torch.randperm(n_samples, generator=generator, device=device)
    position = 0
    for _ in range(n_steps):
        if position + batch_size > n_samples:
            order = torch.randperm(n_samples, generator=generator, device=device)
            position = 0
        yield order[position : position + batch_size]
        position += batch_size


def _targets(pathways, target):
    return target if pathways.n_pathways == 1 else target.repeat(pathways.n_pathways)


def _correct(pathways, logits, targets, batch):
    hits = logits.argmax(1) == targets
    return hits.sum() if pathways.n_pathways == 1 else hits.view(-1, batch).sum(1)


def linear_backward(pathways, trace, dh, index, learning_rate, *, weight_decay=0.0,
                    velocities=None, frozen_learning_rate=0.0):
    """Backpropagate a feature gradient through linear pathways; SGD-update them in place.

    The part of :func:`linear_sgd_step` below the head, shared with the
    multi-task step (:func:`~._multitask.multitask_sgd_step`). Each layer's
    input gradient is computed with the weights before their update.

    Parameters
    ----------
    pathways : Pathways
        Linear modules; trainable leaves updated in place.
    trace : list of Trace
        From ``forward(..., trace=trace)`` on this batch.
    dh : torch.Tensor of shape (P * batch, n_units)
        Gradient of the loss with respect to the last layer's output (the
        heads' input features).
    index : torch.Tensor of shape (batch,), int64
        Training-row indices of the batch (used by the row-space update).
    learning_rate : float
    weight_decay : float, default=0.0
        L2 penalty on the trainable weights (see :class:`TrainSettings`):
        each trainable weight is scaled by ``1 - lr * weight_decay`` after
        its input gradient is taken and before its gradient update. In
        row-space mode ``W = s * W_0 + X.T @ C`` stays exact by scaling the
        coefficients ``C`` and the per-module factor ``s`` of ``W_0``
        (:attr:`Pathways.w0_scale`).
    velocities : Velocities or None, default=None
        Heavy-ball momentum (see :class:`TrainSettings`); None: plain SGD.
        In row-space mode the velocity of ``C`` is dense, (n_train, U * H):
        ``v.mul_(mu).index_add_(0, index, dz); C.sub_(v, alpha=lr)``.
    frozen_learning_rate : float, default=0.0
        ``lr_f``: also update the gathered frozen modules (``fixed``) at this
        rate, after their input gradient is taken (see the module
        docstring; their weights decay by ``1 - lr_f * weight_decay``). A
        module shared by several pathways gets the sum of their gradients.
        Needs the frozen first-layer activations in ``trace`` (inputs bound
        with ``train_frozen=True``). 0.0: the frozen modules are not
        touched.

    Raises
    ------
    ValueError
        If ``frozen_learning_rate > 0`` and the trace lacks the frozen
        first-layer activations (they came precomputed with the inputs).
    """
    P, batch = pathways.n_pathways, len(index)
    decay = 1.0 - learning_rate * weight_decay
    H = pathways.modules.n_units
    for index_l in range(len(pathways.layers) - 1, -1, -1):
        layer = pathways.layers[index_l]
        h_in, a_t, a_f = trace[index_l]
        shared = index_l == 0
        if P == 1:
            ds = dh / layer.count
        else:
            ds = dh.view(P, batch, H) / layer.count.view(P, 1, 1)
        dh = None
        train_fixed = bool(frozen_learning_rate) and layer.fixed is not None
        if layer.fixed is not None and (not shared or train_fixed):
            if a_f is None:
                raise ValueError(
                    "frozen_learning_rate > 0 needs the frozen first-layer activations, but the "
                    "inputs carried precomputed frozen outputs: bind the rows with "
                    "network.bind(X, train_frozen=True)."
                )
            dz_f = _fixed_delta(ds, a_f, layer, P, batch, H, shared)
            if not shared:
                dh = dz_f @ layer.fixed.weight.T
            if train_fixed:
                _update_fixed(pathways, layer, h_in, dz_f, frozen_learning_rate, weight_decay,
                              velocities)
        if layer.trainable is None:
            continue
        U = len(layer.modules)
        if P == 1:
            dz = ds.repeat(1, U) * (a_t > 0)
        elif shared:
            dz = torch.einsum("pbh,pu->buh", ds, layer.mask).reshape(batch, -1) * (a_t > 0)
        else:
            dz = (ds.unsqueeze(2) * layer.mask.view(P, 1, U, 1)).reshape(P * batch, -1)
            dz = dz * (a_t > 0)
        weight, bias = layer.trainable
        if not shared:
            d = dz @ weight.T
            dh = d if dh is None else dh + d
        if weight_decay:
            weight.mul_(decay)
            if shared and pathways.row_space:
                if pathways.w0_scale is None:
                    raise ValueError("row-space weight decay needs network.enable_w0_scale() "
                                     "before the pathways are gathered.")
                pathways.w0_scale.mul_(decay)  # W = s * W_0 + X.T @ C: scale s and C
        if shared and pathways.row_space:
            def add_grad(t, alpha, dz=dz):  # t[b] += alpha * dz: C, or its dense velocity
                t.index_add_(0, index, dz, alpha=alpha)
        else:
            def add_grad(t, alpha, h_in=h_in, dz=dz):
                t.addmm_(h_in.T, dz, alpha=alpha)
        if shared:
            mark("backward")
        sgd_update(weight, add_grad, learning_rate, velocities)
        if shared:
            mark("layer1_update")
        sgd_update(bias, lambda t, alpha, dz=dz: t.add_(dz.sum(0), alpha=alpha), learning_rate,
                   velocities)


def _fixed_delta(ds, a_f, layer, P, batch, H, shared):
    """Gradient of the loss at the gathered frozen modules' pre-activations.

    Parameters
    ----------
    ds : torch.Tensor of shape (batch, H) (P = 1) or (P, batch, H)
        Gradient at the layer's summed output (before the division by the count).
    a_f : torch.Tensor of shape (rows, n_fixed * H)
        The frozen modules' ReLU outputs; ``rows`` is ``batch`` in layer 1
        (``shared``, one batch for all pathways), else ``P * batch``.

    Returns
    -------
    dz_f : torch.Tensor of shape (rows, n_fixed * H)
        Pathways sharing layer 1's rows add up (a frozen module used by
        several pathways gets the sum of their gradients).
    """
    n = layer.n_fixed
    if P == 1:
        return ds.repeat(1, n) * (a_f > 0)
    if shared:
        if layer.fixed_mask is None:  # every pathway uses every frozen module
            return ds.sum(0).repeat(1, n) * (a_f > 0)
        dz_f = torch.einsum("pbh,pf->bfh", ds, layer.fixed_mask)
        return dz_f.reshape(batch, -1) * (a_f > 0)
    dz_f = ds.unsqueeze(2).expand(P, batch, n, H)
    if layer.fixed_mask is not None:  # frozen_mode="genes": each its own
        dz_f = dz_f * layer.fixed_mask.view(P, 1, n, 1)
    return dz_f.reshape(P * batch, -1) * (a_f > 0)


def _update_fixed(pathways, layer, h_in, dz_f, frozen_learning_rate, weight_decay, velocities):
    """SGD step of a layer's gathered frozen modules ``V = w W`` at ``lr_f`` (module docstring).

    ``V <- (1 - lr_f * weight_decay) * V - lr_f * w^2 * dL/dV`` (heavy ball
    with ``velocities``), with ``dL/dV = h_in.T @ dz_f`` (bias: the column
    sums of ``dz_f``).
    """
    weight, bias = layer.fixed
    scale = pathways.frozen_weight ** 2  # dL/dW = w dL/dV, and V moves by w times W's step
    if weight_decay:
        weight.mul_(1.0 - frozen_learning_rate * weight_decay)
    sgd_update(weight, lambda t, alpha: t.addmm_(h_in.T, dz_f, alpha=alpha * scale),
               frozen_learning_rate, velocities)
    sgd_update(bias, lambda t, alpha: t.add_(dz_f.sum(0), alpha=alpha * scale),
               frozen_learning_rate, velocities)


def linear_sgd_step(pathways, head, inputs, target, index, learning_rate, *, weight_decay=0.0,
                    velocities=None, frozen_learning_rate=0.0):
    """One plain-SGD step of linear pathways and their head, in place.

    The loss is the sum over pathways of each pathway's mean cross-entropy.
    The backward pass is written out; each layer's input gradient is
    computed with the weights before their update, as backpropagation
    requires. Frozen modules pass gradients down and are updated only with
    ``frozen_learning_rate``.

    Parameters
    ----------
    pathways : Pathways
        Linear modules; trainable leaves updated in place.
    head : TaskHead
        Updated in place.
    inputs : Inputs
        The mini-batch (``batch`` rows).
    target : torch.Tensor of shape (batch,), int64
    index : torch.Tensor of shape (batch,), int64
        Training-row indices of the batch (used by the row-space update).
    learning_rate : float
    weight_decay : float, default=0.0
        L2 penalty on the weights of the modules and the head (see
        :class:`TrainSettings`); 0.0: plain SGD.
    velocities : Velocities or None, default=None
        Heavy-ball momentum of the modules and the head (see
        :class:`TrainSettings`), kept across the steps of one
        :func:`run_steps`; None: plain SGD.
    frozen_learning_rate : float, default=0.0
        Learning rate of the active frozen modules (see
        :func:`linear_backward`); 0.0: they are not updated.

    Returns
    -------
    correct : torch.Tensor, int64, scalar (P = 1) or of shape (P,)
        Samples classified correctly before the update.
    """
    P, batch = pathways.n_pathways, inputs.n_rows
    trace = []
    logits = forward(pathways, head, inputs, trace=trace)
    targets = _targets(pathways, target)
    correct = _correct(pathways, logits, targets, batch)
    # d(mean cross-entropy)/d(logits) = (softmax - one_hot) / batch
    grad = torch.softmax(logits, 1)
    grad[torch.arange(P * batch, device=grad.device), targets] -= 1.0
    grad /= batch
    mark("forward")
    features = trace[-1].inputs
    dh = grad @ head.weight.T
    if weight_decay:
        head.weight.mul_(1.0 - learning_rate * weight_decay)
    sgd_update(head.weight, lambda t, alpha: t.addmm_(features.T, grad, alpha=alpha),
               learning_rate, velocities)
    sgd_update(head.bias, lambda t, alpha: t.add_(grad.sum(0), alpha=alpha), learning_rate,
               velocities)
    linear_backward(pathways, trace, dh, index, learning_rate, weight_decay=weight_decay,
                    velocities=velocities, frozen_learning_rate=frozen_learning_rate)
    mark("backward")
    return correct


def autograd_sgd_step(pathways, head, inputs, target, index, learning_rate, *,
                      weight_decay=0.0, velocities=None, frozen_learning_rate=0.0):
    """One plain-SGD step through torch autograd (any module type, direct mode).

    Same loss, arguments and return value as :func:`linear_sgd_step`: the
    gradients of the gathered trainable leaves and of the head are taken
    with :func:`torch.autograd.grad`, then ``p -= lr * grad`` (with
    ``weight_decay``, weights, not biases, are first scaled by
    ``1 - lr * weight_decay``; with ``velocities``, the heavy-ball update of
    :func:`sgd_update`). Frozen modules do not require gradients and stay
    bit-identical, unless ``frozen_learning_rate > 0``: then they are leaves
    too, updated by :func:`apply_frozen_gradients`.

    Raises
    ------
    ValueError
        In row-space mode (its update is not the gradient in coefficient
        space; use :func:`linear_sgd_step`).
    """
    if pathways.row_space:
        raise ValueError("autograd_sgd_step does not support row-space training.")
    batch = inputs.n_rows
    params = [t for layer in pathways.layers if layer.trainable is not None
              for t in layer.trainable]
    params += [head.weight, head.bias]
    fixed = frozen_params(pathways, frozen_learning_rate)
    targets = _targets(pathways, target)
    with torch.enable_grad():
        for p in params + fixed:
            p.requires_grad_(True)
        try:
            logits = forward(pathways, head, inputs)
            loss = F.cross_entropy(logits, targets, reduction="sum") / batch
            mark("forward")
            grads = torch.autograd.grad(loss, params + fixed)
        finally:
            for p in params + fixed:
                p.requires_grad_(False)
    apply_gradients(params, grads[:len(params)], learning_rate, weight_decay=weight_decay,
                    velocities=velocities)
    apply_frozen_gradients(pathways, fixed, grads[len(params):], frozen_learning_rate,
                           weight_decay=weight_decay, velocities=velocities)
    mark("backward")
    return _correct(pathways, logits.detach(), targets, batch)


def frozen_params(pathways, frozen_learning_rate):
    """The gathered frozen ``(weight, bias)`` pairs an autograd step trains (none at rate 0)."""
    if not frozen_learning_rate:
        return []
    return [t for layer in pathways.layers if layer.fixed is not None for t in layer.fixed]


def apply_frozen_gradients(pathways, fixed, grads, frozen_learning_rate, *, weight_decay=0.0,
                           velocities=None):
    """The autograd steps' update of the frozen modules :func:`frozen_params` gave.

    :func:`apply_gradients` at ``frozen_learning_rate`` of ``w^2`` times the
    gradients of the gathered copies ``V = w W`` (module docstring); nothing
    when ``fixed`` is empty.
    """
    if not fixed:
        return
    scale = pathways.frozen_weight ** 2
    if scale != 1.0:
        grads = [g * scale for g in grads]
    apply_gradients(fixed, grads, frozen_learning_rate, weight_decay=weight_decay,
                    velocities=velocities)


def apply_gradients(params, grads, learning_rate, *, weight_decay=0.0, velocities=None):
    """The update of the autograd steps: each ``(weight, bias)`` pair of ``params`` in place.

    Parameters
    ----------
    params : list of torch.Tensor
        ``(weight, bias)`` pairs, in that order: weights decay, biases do not.
    grads : sequence of torch.Tensor
        The gradient of each parameter.
    learning_rate : float
    weight_decay : float, default=0.0
        Weights are scaled by ``1 - learning_rate * weight_decay`` first.
    velocities : Velocities or None, default=None
        Heavy ball (:func:`sgd_update`); None: ``p -= learning_rate * grad``.
    """
    with torch.no_grad():
        for k, (p, g) in enumerate(zip(params, grads)):
            if weight_decay and k % 2 == 0:  # (weight, bias) pairs: weights decay
                p.mul_(1.0 - learning_rate * weight_decay)
            sgd_update(p, lambda t, alpha, g=g: t.add_(g, alpha=alpha), learning_rate, velocities)


def step_for(pathways):
    """The SGD step for a module type: hand-written for linear, else autograd."""
    if isinstance(pathways.modules, LinearModules):
        return linear_sgd_step
    return autograd_sgd_step


def run_steps(pathways, head, inputs, y, settings, generator, *, step=None, rows=None):
    """Run ``settings.n_steps`` SGD steps on shuffled mini-batches.

    Parameters
    ----------
    pathways : Pathways
    head : TaskHead
    inputs : Inputs
        All training rows (see :meth:`PathNetwork.bind`).
    y : torch.Tensor of shape (n_samples,), int64, or MultiTargets
        The labels of all rows; targets of several tasks
        (:class:`~._multitask.MultiTargets`, with ``head`` their
        :class:`~._multitask.MultiTaskHeads`) are cut into mini-batches by
        their ``rows`` method.
    settings : TrainSettings
    generator : torch.Generator
        On the device of ``inputs`` for the mini-batch shuffles.
    step : callable, default=None
        ``step(pathways, head, inputs, target, index, learning_rate)``,
        returning counts that add up over the steps (a tensor, or
        :class:`~._multitask.MultiTaskCounts`); default :func:`step_for`. It also gets ``weight_decay=`` when
        ``settings.weight_decay`` is set, ``velocities=`` (fresh
        :class:`Velocities`, zero at the start of this call) when
        ``settings.momentum`` is, and ``frozen_learning_rate=`` when
        ``settings.frozen_learning_rate`` is.
    rows : torch.Tensor of shape (n_rows,), int64, default=None
        Train on these rows of ``inputs`` only (mini-batches are drawn from
        them, e.g. to keep a held-out part out of training); None: all rows.

    Returns
    -------
    correct : torch.Tensor or MultiTaskCounts
        Sum of the steps' correct counts (scalar, or shape (P,)); 0 when
        ``settings.n_steps`` is 0.
    seen : int
        Number of samples seen per pathway.

    Raises
    ------
    ValueError
        If ``settings.augmentation`` is set and the inputs are row-space
        kernel rows (augmentation changes the rows themselves); if
        ``settings.frozen_learning_rate`` is set and the inputs carry
        precomputed frozen first-layer outputs (they would go stale).

    Notes
    -----
    With ``settings.augmentation``, each mini-batch's rows ``inputs.x`` are
    replaced by :func:`~._augment.augment_rows` of them (seen as images of
    ``settings.image_shape``), and its cached frozen first-layer sum is
    dropped, so frozen first-layer modules see the augmented rows too. The
    augmentation's random numbers come from a generator of their own, on the
    same device, seeded at the start of the call by one draw from
    ``generator``: reproducible for a seeded ``generator``, and the
    augmentation draws do not move the mini-batch order within the call.
    Without augmentation, nothing is drawn for it.
    """
    step = step or step_for(pathways)
    # only passed when set, so steps without the keyword (multi-task) keep working
    extra = {"weight_decay": settings.weight_decay} if settings.weight_decay else {}
    if settings.momentum:
        extra["velocities"] = Velocities(settings.momentum)  # fresh: v = 0 for each call
    if settings.frozen_learning_rate:
        if inputs.frozen_sum is not None or inputs.frozen_outputs is not None:
            raise ValueError(
                "frozen_learning_rate > 0 trains the frozen modules, so the inputs' "
                "precomputed frozen first-layer outputs would go stale: bind the rows with "
                "network.bind(X, train_frozen=True)."
            )
        extra["frozen_learning_rate"] = settings.frozen_learning_rate
    augment = None if settings.augmentation is None else _augmenter(
        pathways, inputs, settings, generator)
    total, seen = None, 0
    n_rows = inputs.n_rows if rows is None else len(rows)
    with torch.no_grad():
        for idx in minibatches(n_rows, settings.n_steps, settings.batch_size, generator,
                               inputs.x.device):
            if rows is not None:
                idx = rows.index_select(0, idx)
            batch = inputs.rows(idx)
            if augment is not None:
                batch = augment(batch)
            target = _target_rows(y, idx)
            mark("batch")
            counts = step(pathways, head, batch, target, idx, settings.learning_rate, **extra)
            total = counts if total is None else total + counts
            seen += len(idx)
    return (0 if total is None else total), seen


def _target_rows(y, idx):
    """The rows ``idx`` of the targets: a label tensor, or targets with ``rows`` (MultiTargets)."""
    return y.rows(idx) if hasattr(y, "rows") else y.index_select(0, idx)


def _augmenter(pathways, inputs, settings, generator):
    """``augment(batch) -> batch`` for :func:`run_steps` (see its Notes)."""
    if pathways.row_space or inputs.offset is not None:
        raise ValueError(
            "augmentation needs direct first-layer inputs: row-space inputs are kernel rows of "
            "the fixed training matrix, which augmented rows would change. Bind the network "
            "with first_layer='direct'."
        )
    device = inputs.x.device
    seed = int(torch.randint(0, 2**62, (1,), generator=generator, device=device))
    own = torch.Generator(device=device).manual_seed(seed)

    def augment(batch):
        x = augment_rows(settings.augmentation, batch.x, settings.image_shape, own)
        return Inputs(x)  # no frozen-sum cache: it holds the rows before augmentation

    return augment


def train_pathways(network, genotypes, head, inputs, y, settings, generator, *, rows=None):
    """Train ``P`` pathways side by side (``P = 1``: one pathway) for ``T`` steps.

    Parameters
    ----------
    network : PathNetwork
        Its active trainable modules are updated in place (and its active
        frozen ones with ``settings.frozen_learning_rate``).
    genotypes : sequence of ndarray of shape (n_layers, n_active), int
    head : TaskHead
        Shared by the pathways; updated in place.
    inputs, y, settings, generator, rows
        As in :func:`run_steps`.

    Returns
    -------
    fitness : list of float, length P
        Per pathway, the fraction of the samples seen during the ``T``
        steps that it classified correctly before each step's update
        (Nguyen et al. 2020, Sec. 3.3).
    """
    if settings.weight_decay and network.row_space is not None:
        network.enable_w0_scale()
    pathways = Pathways.gather(network, list(genotypes))
    mark("gather")
    correct, seen = run_steps(pathways, head, inputs, y, settings, generator, rows=rows)
    pathways.scatter(frozen=bool(settings.frozen_learning_rate))
    if seen == 0:
        fitness = [0.0] * len(genotypes)
    else:
        fitness = [float(c) / seen for c in torch.as_tensor(correct).reshape(-1).tolist()]
    mark("scatter")
    return fitness


def heldout_accuracy(network, genotypes, head, inputs, y, groups=None):
    """Accuracy of each pathway on held-out rows (no training).

    Parameters
    ----------
    network : PathNetwork
    genotypes : sequence of ndarray of shape (n_layers, n_active), int
    head : TaskHead
    inputs : Inputs
        The held-out rows in the network's current mode
        (:meth:`~._network.PathNetwork.encode`).
    y : torch.Tensor of shape (n_rows,), int64
        Label of each row.
    groups : torch.Tensor of shape (n_rows,), int64, default=None
        Clip of each row, numbered from 0: a clip's rows' softmax outputs
        are averaged and the clip counts once. None: every row is a clip.

    Returns
    -------
    accuracy : list of float, length len(genotypes)
    """
    scores = []
    for genotype in genotypes:
        logits = Pathways.gather(network, [genotype]).logits(inputs, head)
        if groups is None:
            hits = logits.argmax(1) == y
        else:
            n_clips = int(groups.max()) + 1
            proba = torch.zeros(n_clips, logits.shape[1], device=logits.device)
            proba.index_add_(0, groups, torch.softmax(logits, 1))
            clip_y = torch.zeros(n_clips, dtype=y.dtype, device=y.device).scatter_(0, groups, y)
            hits = proba.argmax(1) == clip_y
        scores.append(float(hits.float().mean()))
    return scores


def heldout_trainer(train_rows, heldout_rows, groups=None):
    """A ``train`` for :func:`~._evolution.evolve` whose fitness is held-out accuracy.

    The network is bound to all rows; the returned ``train(network,
    genotypes, head, inputs, y, settings, generator)`` trains the pathways as
    :func:`train_pathways` on ``train_rows`` only, then returns
    :func:`heldout_accuracy` of each on ``heldout_rows`` of the same
    ``inputs`` (clip level with ``groups``, the clip of each held-out row
    numbered from 0) instead of the training-sample rate. In row-space mode
    the held-out rows' coefficients stay 0, so this is exactly training on
    ``train_rows`` alone.

    Parameters
    ----------
    train_rows, heldout_rows : torch.Tensor of int64
        Disjoint row indices of the bound inputs.
    groups : torch.Tensor of shape (len(heldout_rows),), int64, default=None
    """
    def train(network, genotypes, head, inputs, y, settings, generator):
        train_pathways(network, genotypes, head, inputs, y, settings, generator, rows=train_rows)
        return heldout_accuracy(network, genotypes, head, inputs.rows(heldout_rows),
                                y.index_select(0, heldout_rows), groups)

    return train


def training_loss(network, genotypes, head, inputs, y, rows=None):
    """Mean cross-entropy of each pathway on (some of) the bound rows, no training.

    Parameters
    ----------
    network, genotypes, head
        As in :func:`heldout_accuracy`.
    inputs : Inputs
        The bound training rows.
    y : torch.Tensor of shape (n_rows,), int64
    rows : torch.Tensor of int64, default=None
        Only these rows (e.g. the training part under a held-out fitness).

    Returns
    -------
    loss : list of float, length len(genotypes)
    """
    if rows is not None:
        inputs, y = inputs.rows(rows), y.index_select(0, rows)
    out = []
    for genotype in genotypes:
        logits = Pathways.gather(network, [genotype]).logits(inputs, head)
        out.append(float(torch.nn.functional.cross_entropy(logits, y)))
    return out
