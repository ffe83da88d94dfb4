"""Multi-task training: shared pathways, one head per task, masked losses.

Pons & Masip [1]_ learn facial emotions and Action Units (AUs) from
corpora labelled for one task or both with a loss in which each sample
contributes only to the tasks it is labelled for. In a PathNet that is a
pathway feeding several task heads (:class:`MultiTaskHeads`): an emotion
head (softmax cross-entropy over the classes) and an AU head (one sigmoid
binary cross-entropy per AU). Per mini-batch of ``b`` rows,

.. math::

    L = \\frac{1}{b_E} \\sum_{i \\in E} \\mathrm{CE}(z_i, y_i)
      + w \\frac{1}{b_A} \\sum_{i, k:\\, m_{ik} = 1} \\mathrm{BCE}(a_{ik}, u_{ik})

where ``E`` are the rows with an emotion label (``b_E`` of them), ``m_ik``
says that AU ``k`` of row ``i`` is labelled, ``b_A`` is the number of
labelled AU entries (the masked mean of the per-AU losses) and ``w`` is
``au_weight``. The mean rather than the per-row sum over AUs keeps the
feature gradient of the AU task at the scale of the emotion task's: with
the sum over CK+'s 24 AUs, SGD at learning rate 0.1 diverged (NaN) on
CK+48 face crops within 20 generations. A task without a
label in the batch has no term: its head gets no update and sends no
gradient into the pathway, bit for bit. With every emotion labelled and no
AU task, the step is exactly :func:`~._sgd.linear_sgd_step`.

Fitness of a pathway over its ``T`` steps (measured before each update, as
in Nguyen et al. 2020, Sec. 3.3): the mean over the tasks it saw labels
for of the emotion accuracy on the labelled rows seen, and the AU mean F1:
per AU, ``2 TP / (2 TP + FP + FN)`` over the labelled entries seen (sigmoid
output > 0.5 is a positive), averaged over the AUs for which it is defined
(``2 TP + FP + FN > 0``). F1 rather than accuracy because AUs are sparse
(on CK+48 an all-negative guess is 87 % accurate), and mean F1 is the
field's standard AU score.

References
----------
.. [1] G. Pons and D. Masip, "Multi-task, multi-label and multi-domain
   learning with residual convolutional networks for emotion recognition",
   arXiv:1802.06664, 2018.
"""

from dataclasses import dataclass
from typing import NamedTuple, Optional

import torch
import torch.nn.functional as F

from ._modules import LinearModules
from ._network import TaskHead
from ._pathway import Pathways, forward
from ._probe import mark
from ._sgd import (
    apply_frozen_gradients, apply_gradients, frozen_params, linear_backward, run_steps, sgd_update,
)

__all__ = [
    "MultiTaskCounts", "MultiTaskHeads", "MultiTargets", "multitask_autograd_step",
    "multitask_fitness", "multitask_loss", "multitask_sgd_step", "multitask_step_for",
    "train_multitask",
]


class MultiTargets(NamedTuple):
    """Labels of every task for the training rows, with what is missing.

    Attributes
    ----------
    emotion : torch.Tensor of shape (n_samples,), int64
        Encoded class of each row; -1 where the row has no emotion label.
    aus : torch.Tensor of shape (n_samples, n_aus), float32, or None
        0/1 AU labels (any value where ``au_mask`` is False); None: no AU task.
    au_mask : torch.Tensor of shape (n_samples, n_aus), bool, or None
        True where the AU label is known.
    """

    emotion: torch.Tensor
    aus: Optional[torch.Tensor] = None
    au_mask: Optional[torch.Tensor] = None

    def rows(self, idx):
        """The rows ``idx`` (a tensor of indices) of every field."""
        pick = lambda t: None if t is None else t.index_select(0, idx)  # noqa: E731
        return MultiTargets(pick(self.emotion), pick(self.aus), pick(self.au_mask))

    @property
    def n_aus(self):
        return 0 if self.aus is None else self.aus.shape[1]


@dataclass
class MultiTaskHeads:
    """The heads of a multi-task pathway: emotion, and optionally AUs.

    Attributes
    ----------
    emotion : TaskHead
        ``n_features -> n_classes``, softmax cross-entropy.
    aus : TaskHead or None
        ``n_features -> n_aus``, one sigmoid binary cross-entropy per AU.
    au_weight : float, default=1.0
        ``w``, weight of the AU loss (see the module docstring).
    """

    emotion: TaskHead
    aus: Optional[TaskHead] = None
    au_weight: float = 1.0

    def tensors(self, *, emotion=True, aus=True):
        """The head tensors (weight, bias of each head) of the tasks asked for."""
        out = []
        if emotion:
            out += [self.emotion.weight, self.emotion.bias]
        if aus and self.aus is not None:
            out += [self.aus.weight, self.aus.bias]
        return out


class MultiTaskCounts(NamedTuple):
    """What a step (or a sum of steps) saw, per pathway, for the fitness.

    Attributes
    ----------
    correct : torch.Tensor of shape (P,), int64
        Emotion-labelled rows classified correctly.
    labelled : torch.Tensor, int64, scalar
        Emotion-labelled rows (the same for every pathway).
    tp, fp, fn : torch.Tensor of shape (P, n_aus), int64, or None
        AU true positives, false positives, false negatives over the
        labelled AU entries; None without an AU task.
    """

    correct: torch.Tensor
    labelled: torch.Tensor
    tp: Optional[torch.Tensor] = None
    fp: Optional[torch.Tensor] = None
    fn: Optional[torch.Tensor] = None

    def __add__(self, other):
        add = lambda a, b: None if a is None else a + b  # noqa: E731
        return MultiTaskCounts(*(add(a, b) for a, b in zip(self, other)))


def _repeat(pathways, t):
    return t if pathways.n_pathways == 1 else t.repeat(pathways.n_pathways, *([1] * (t.dim() - 1)))


def _counts(pathways, logits, au_logits, targets, batch):
    P = pathways.n_pathways
    emotion = _repeat(pathways, targets.emotion)
    labelled = emotion >= 0
    hits = (logits.argmax(1) == emotion) & labelled
    counts = [hits.view(P, batch).sum(1), labelled.view(P, batch)[0].sum()]
    if au_logits is not None:
        truth = _repeat(pathways, targets.aus) > 0.5
        mask = _repeat(pathways, targets.au_mask)
        pred = au_logits > 0
        for hit in (pred & truth, pred & ~truth, ~pred & truth):
            counts.append((hit & mask).view(P, batch, -1).sum(1))
    return MultiTaskCounts(*counts)


def _n_labelled(targets):
    n_e = int((targets.emotion >= 0).sum())
    n_a = 0 if targets.au_mask is None else int(targets.au_mask.sum())
    return n_e, n_a


def multitask_loss(pathways, logits, au_logits, targets, *, au_weight=1.0):
    """The masked multi-task loss of a batch, summed over pathways (autograd-friendly).

    Parameters
    ----------
    pathways : Pathways
        For ``P``.
    logits : torch.Tensor of shape (P * batch, n_classes)
    au_logits : torch.Tensor of shape (P * batch, n_aus) or None
    targets : MultiTargets
        The batch's labels (``batch`` rows).
    au_weight : float, default=1.0
        ``w``.

    Returns
    -------
    loss : torch.Tensor, scalar, or None
        None when the batch has no label of any task.
    """
    n_e, n_a = _n_labelled(targets)
    loss = None
    if n_e:
        emotion = _repeat(pathways, targets.emotion)
        loss = F.cross_entropy(logits, emotion, ignore_index=-1, reduction="sum") / n_e
    if au_logits is not None and n_a:
        bce = F.binary_cross_entropy_with_logits(
            au_logits, _repeat(pathways, targets.aus), reduction="none"
        )
        term = bce.masked_fill(~_repeat(pathways, targets.au_mask), 0.0).sum() * au_weight
        loss = term / n_a if loss is None else loss + term / n_a
    return loss


def multitask_sgd_step(pathways, heads, inputs, targets, index, learning_rate, *,
                       weight_decay=0.0, velocities=None, frozen_learning_rate=0.0):
    """One SGD step of linear pathways and their task heads, masked, in place.

    The loss is that of the module docstring, summed over the ``P``
    pathways. The backward pass is written out, as in
    :func:`~._sgd.linear_sgd_step`: the heads' logit gradients
    (``(softmax - one_hot) / b_E`` on emotion-labelled rows,
    ``w (sigmoid - u) / b_A`` on the ``b_A`` labelled AU entries, 0
    elsewhere) give the
    feature gradient, which :func:`~._sgd.linear_backward` takes down the
    pathways (row-space mode included). A head whose task has no label in
    the batch is not touched.

    Parameters
    ----------
    pathways : Pathways
        Linear modules; trainable leaves updated in place.
    heads : MultiTaskHeads
        Updated in place.
    inputs : Inputs
        The mini-batch (``batch`` rows).
    targets : MultiTargets
        The batch's labels.
    index : torch.Tensor of shape (batch,), int64
        Training-row indices of the batch (used by the row-space update).
    learning_rate : float
    weight_decay : float, default=0.0
        L2 penalty on the weights of the modules and of the heads that are
        updated (see :class:`~._sgd.TrainSettings`); 0.0: plain SGD.
    velocities : Velocities or None, default=None
        Heavy-ball momentum (see :class:`~._sgd.TrainSettings`); None:
        plain SGD.
    frozen_learning_rate : float, default=0.0
        Learning rate of the active frozen modules (see
        :func:`~._sgd.linear_backward`); 0.0: they are not updated.

    Returns
    -------
    counts : MultiTaskCounts
        Measured before the update.
    """
    P, batch = pathways.n_pathways, inputs.n_rows
    trace = []
    logits = forward(pathways, heads.emotion, inputs, trace=trace)
    features = trace[-1].inputs
    au_logits = None
    if heads.aus is not None:
        au_logits = torch.addmm(heads.aus.bias, features, heads.aus.weight)
    counts = _counts(pathways, logits, au_logits, targets, batch)
    n_e, n_a = _n_labelled(targets)
    grads = []
    if n_e:
        emotion = _repeat(pathways, targets.emotion)
        labelled = emotion >= 0
        # d(mean cross-entropy over labelled rows)/d(logits) = (softmax - one_hot) / b_E
        grad = torch.softmax(logits, 1)
        grad[torch.arange(P * batch, device=grad.device), emotion.clamp(min=0)] -= 1.0
        if n_e < batch:
            grad.masked_fill_(~labelled.unsqueeze(1), 0.0)
        grad /= n_e
        grads.append((heads.emotion, grad))
    if au_logits is not None and n_a:
        grad = torch.sigmoid(au_logits) - _repeat(pathways, targets.aus)
        grad.masked_fill_(~_repeat(pathways, targets.au_mask), 0.0)
        grad *= heads.au_weight / n_a
        grads.append((heads.aus, grad))
    mark("forward")
    if not grads:
        mark("backward")
        return counts
    dh = None
    for head, grad in grads:  # feature gradient with the heads before their update
        d = grad @ head.weight.T
        dh = d if dh is None else dh + d
    for head, grad in grads:
        if weight_decay:
            head.weight.mul_(1.0 - learning_rate * weight_decay)
        sgd_update(head.weight, lambda t, alpha, g=grad: t.addmm_(features.T, g, alpha=alpha),
                   learning_rate, velocities)
        sgd_update(head.bias, lambda t, alpha, g=grad: t.add_(g.sum(0), alpha=alpha),
                   learning_rate, velocities)
    linear_backward(pathways, trace, dh, index, learning_rate, weight_decay=weight_decay,
                    velocities=velocities, frozen_learning_rate=frozen_learning_rate)
    mark("backward")
    return counts


def multitask_autograd_step(pathways, heads, inputs, targets, index, learning_rate, *,
                            weight_decay=0.0, velocities=None, frozen_learning_rate=0.0):
    """:func:`multitask_sgd_step` through torch autograd (any module type, direct mode).

    The gradients of the gathered trainable leaves and of the heads of the
    tasks labelled in the batch are taken with :func:`torch.autograd.grad`
    of :func:`multitask_loss`, then ``p -= lr * grad`` (with ``weight_decay``
    and ``velocities`` as in :func:`~._sgd.autograd_sgd_step`). Heads of
    tasks without a label in the batch are not touched, nor are the frozen
    modules unless ``frozen_learning_rate > 0`` (then as in
    :func:`~._sgd.autograd_sgd_step`).

    Raises
    ------
    ValueError
        In row-space mode (use :func:`multitask_sgd_step`).
    """
    if pathways.row_space:
        raise ValueError("multitask_autograd_step does not support row-space training; use "
                         "multitask_sgd_step (linear modules).")
    batch = inputs.n_rows
    n_e, n_a = _n_labelled(targets)
    params = [t for layer in pathways.layers if layer.trainable is not None
              for t in layer.trainable]
    params += heads.tensors(emotion=n_e > 0, aus=n_a > 0)
    fixed = frozen_params(pathways, frozen_learning_rate)
    with torch.enable_grad():
        for p in params + fixed:
            p.requires_grad_(True)
        try:
            trace = []
            logits = forward(pathways, heads.emotion, inputs, trace=trace)
            au_logits = None
            if heads.aus is not None:
                au_logits = torch.addmm(heads.aus.bias, trace[-1].inputs, heads.aus.weight)
            loss = multitask_loss(pathways, logits, au_logits, targets,
                                  au_weight=heads.au_weight)
            mark("forward")
            grads = None if loss is None else torch.autograd.grad(loss, params + fixed)
        finally:
            for p in params + fixed:
                p.requires_grad_(False)
    if grads is not None:
        apply_gradients(params, grads[:len(params)], learning_rate, weight_decay=weight_decay,
                        velocities=velocities)
        apply_frozen_gradients(pathways, fixed, grads[len(params):], frozen_learning_rate,
                               weight_decay=weight_decay, velocities=velocities)
    mark("backward")
    return _counts(pathways, logits.detach(),
                   None if au_logits is None else au_logits.detach(), targets, batch)


def multitask_step_for(pathways):
    """The multi-task step for a module type: hand-written for linear, else autograd."""
    if isinstance(pathways.modules, LinearModules):
        return multitask_sgd_step
    return multitask_autograd_step


def multitask_fitness(counts):
    """Fitness of each pathway from the counts of its ``T`` steps (module docstring).

    Parameters
    ----------
    counts : MultiTaskCounts

    Returns
    -------
    fitness : list of float, length P
        Mean of the emotion accuracy (if an emotion label was seen) and the
        AU mean F1 (if an AU's F1 is defined); 0.0 if neither is.
    """
    P = len(counts.correct)
    scores = [[] for _ in range(P)]
    labelled = int(counts.labelled)
    if labelled:
        for p, c in enumerate(counts.correct.tolist()):
            scores[p].append(float(c) / labelled)
    if counts.tp is not None:
        tp, fp, fn = (t.double() for t in (counts.tp, counts.fp, counts.fn))
        denominator = 2 * tp + fp + fn
        defined = denominator > 0
        f1 = torch.where(defined, 2 * tp / denominator.clamp(min=1), torch.zeros_like(tp))
        for p in range(P):
            if bool(defined[p].any()):
                scores[p].append(float(f1[p][defined[p]].mean()))
    return [sum(s) / len(s) if s else 0.0 for s in scores]


def train_multitask(network, genotypes, heads, inputs, targets, settings, generator, *,
                    step=None):
    """Train ``P`` pathways side by side on several tasks for ``T`` steps.

    The multi-task counterpart of :func:`~._sgd.train_pathways`, with the
    same signature, so that :func:`~._evolution.evolve` takes it as its
    ``train`` (with ``head=heads`` and ``y=targets``). The steps are those
    of :func:`~._sgd.run_steps`, so weight decay, momentum and augmentation
    (``settings``) work as for one task.

    Parameters
    ----------
    network : PathNetwork
        Its active trainable modules are updated in place (and its active
        frozen ones with ``settings.frozen_learning_rate``).
    genotypes : sequence of ndarray of shape (n_layers, n_active), int
    heads : MultiTaskHeads
        Shared by the pathways; updated in place.
    inputs : Inputs
        All training rows (see :meth:`PathNetwork.bind`).
    targets : MultiTargets
        The labels of all training rows.
    settings : TrainSettings
    generator : torch.Generator
        On the device of ``inputs`` for the mini-batch shuffles.
    step : callable, default=None
        Default :func:`multitask_step_for`.

    Returns
    -------
    fitness : list of float, length P
        :func:`multitask_fitness` of the counts before each step's update.
    """
    if settings.weight_decay and network.row_space is not None:
        network.enable_w0_scale()
    pathways = Pathways.gather(network, list(genotypes))
    mark("gather")
    total, seen = run_steps(pathways, heads, inputs, targets, settings, generator,
                            step=step or multitask_step_for(pathways))
    pathways.scatter(frozen=bool(settings.frozen_learning_rate))
    fitness = [0.0] * len(genotypes) if seen == 0 else multitask_fitness(total)
    mark("scatter")
    return fitness
