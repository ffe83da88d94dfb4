"""Parallel tournaments: several pathways trained at once on shared modules.

Fernando et al. [1]_ (Sec. 2) evaluate pathways in parallel as well as in
series: in their A3C experiments, workers train their own pathways at the
same time on the one shared set of parameters. :func:`train_pathways_parallel`
is the synchronous form of that for a binary tournament: both pathways take
their ``T`` SGD steps side by side, on the same mini-batches, and a module
used by both receives the sum of both pathways' gradients in each step.

It is not bit-identical to the serial tournament (where the second pathway
starts from the modules the first one has just updated), so it is an option
(``PathNetClassifier(tournament="parallel")``), not the default. It is
cheaper: the first layer, which holds nearly all the FLOPs, is evaluated once
per step for the *union* of the pathways' modules on one gathered
mini-batch, so a module that both pathways use costs one matmul instead of
two, and the small layers 2..L run as one stacked batch of ``P * batch``
rows instead of ``P`` separate ones.

References
----------
.. [1] C. Fernando et al., "PathNet: Evolution Channels Gradient Descent in
   Super Neural Networks", arXiv:1701.08734, 2017.
"""

import numpy as np
import torch

from ._pathnet import Pathway, active_modules, run_steps

__all__ = ["PathwayGroup", "group_sgd_step", "train_pathways_parallel"]


class PathwayGroup:
    """Several pathways over one gathered copy of the union of their modules.

    Parameters
    ----------
    network : PathNetwork
    genotypes : sequence of ndarray of shape (n_layers, n_active), int
        ``P`` genotypes; repeated genes count once, frozen modules are
        active in every pathway.

    Attributes
    ----------
    shared : Pathway
        The union of the trainable modules of each layer (sorted module
        indices) and the frozen modules, as matmul-ready tensors; trained in
        place and written back by :meth:`scatter`.
    masks : list of torch.Tensor, item l of shape (P, U_l), float32
        ``masks[l][p, j]`` is 1 when pathway ``p`` uses the ``j``-th module
        of the layer's union, else 0.
    counts : list of torch.Tensor, item l of shape (P, 1, 1), float32
        Number of active modules (trainable and frozen) averaged by each
        pathway in layer ``l``.
    """

    def __init__(self, network, genotypes):
        own = [active_modules(g, network.frozen) for g in genotypes]
        n_layers = len(network.frozen)
        union = [np.unique(np.concatenate([tr[layer] for tr, _ in own])) for layer in range(n_layers)]
        fixed = [np.asarray(f, dtype=np.int64) for f in network.frozen]
        self.shared = Pathway.gather(network, union, fixed)
        self.n_pathways = len(genotypes)
        self.H = network.n_units
        device = network.device
        self.masks, self.counts = [], []
        for layer in range(n_layers):
            mask = np.stack([np.isin(union[layer], tr[layer]) for tr, _ in own])
            self.masks.append(torch.as_tensor(mask, dtype=torch.float32, device=device))
            k = mask.sum(1) + len(fixed[layer])
            self.counts.append(
                torch.as_tensor(k, dtype=torch.float32, device=device).view(-1, 1, 1)
            )

    def scatter(self):
        """Write the trained union of modules back into the network."""
        self.shared.scatter()


def group_sgd_step(group, head, x, target, learning_rate, frozen_cache=None):
    """One plain-SGD step of every pathway of ``group`` on the same mini-batch.

    The loss is the sum over pathways of each pathway's mean cross-entropy,
    so each pathway's own gradient is that of the serial
    :func:`~skpathnet._pathnet.sgd_step`, and a module or head shared by
    several pathways gets the sum of their gradients.

    Parameters
    ----------
    group : PathwayGroup
        Its trainable tensors are updated in place.
    head : TaskHead
        Shared by the pathways; updated in place.
    x : torch.Tensor of shape (batch, n_features)
    target : torch.Tensor of shape (batch,), int64
    learning_rate : float
    frozen_cache : torch.Tensor of shape (batch, n_units), default=None

    Returns
    -------
    correct : torch.Tensor of shape (P,), int64
        Samples of the batch each pathway classified correctly before the
        update.
    """
    P, H, batch = group.n_pathways, group.H, len(x)
    inputs, acts = [], []
    h = x  # layer 1: the batch, shared; then (P * batch) stacked rows
    for layer, (tr, fx, _) in enumerate(group.shared.layers):
        mask, k = group.masks[layer], group.counts[layer]
        total = torch.zeros(P, batch, H, device=x.device)
        a_t = a_f = None
        if tr is not None:
            a_t = torch.relu(torch.addmm(tr[1], h, tr[0]))
            if layer == 0:
                total += torch.einsum("buh,pu->pbh", a_t.view(batch, -1, H), mask)
            else:
                total += torch.einsum("pbuh,pu->pbh", a_t.view(P, batch, -1, H), mask)
        if fx is not None:
            if layer == 0 and frozen_cache is not None:
                total += frozen_cache
            else:
                a_f = torch.relu(torch.addmm(fx[1], h, fx[0]))
                total += a_f.view(-1, batch, fx[0].shape[1] // H, H).sum(2)
        inputs.append(h)
        acts.append((a_t, a_f))
        h = (total / k).view(P * batch, H)
    logits = torch.addmm(head.bias, h, head.weight)
    targets = target.repeat(P)
    correct = (logits.argmax(1) == targets).view(P, batch).sum(1)
    grad = torch.softmax(logits, 1)
    grad[torch.arange(P * batch, device=x.device), targets] -= 1.0
    grad /= batch
    dh = grad @ head.weight.T
    head.weight.addmm_(h.T, grad, alpha=-learning_rate)
    head.bias.add_(grad.sum(0), alpha=-learning_rate)
    for layer in range(len(group.shared.layers) - 1, -1, -1):
        tr, fx, _ = group.shared.layers[layer]
        a_t, a_f = acts[layer]
        ds = dh.view(P, batch, H) / group.counts[layer]
        dh = None
        if layer > 0 and fx is not None:
            n_fixed = fx[0].shape[1] // H
            dz_f = ds.unsqueeze(2).expand(P, batch, n_fixed, H).reshape(P * batch, -1)
            dh = (dz_f * (a_f > 0)) @ fx[0].T
        if tr is not None:
            mask = group.masks[layer]
            if layer == 0:
                dz = torch.einsum("pbh,pu->buh", ds, mask).reshape(batch, -1)
            else:
                dz = (ds.unsqueeze(2) * mask.view(P, 1, -1, 1)).reshape(P * batch, -1)
            dz = dz * (a_t > 0)
            if layer > 0:
                d = dz @ tr[0].T
                dh = d if dh is None else dh + d
            tr[0].addmm_(inputs[layer].T, dz, alpha=-learning_rate)
            tr[1].add_(dz.sum(0), alpha=-learning_rate)
    return correct


def train_pathways_parallel(
    network, genotypes, head, X, y, *, n_steps, batch_size, learning_rate, generator,
    frozen_cache=None,
):
    """Train several pathways side by side for ``T`` steps; return their fitnesses.

    Parameters
    ----------
    network : PathNetwork
    genotypes : sequence of ndarray of shape (n_layers, n_active), int
    head : TaskHead
        Shared by the pathways; updated in place.
    X, y, n_steps, batch_size, learning_rate, generator, frozen_cache
        As in :func:`~skpathnet._pathnet.train_pathway`; every pathway takes
        the same ``n_steps`` mini-batches.

    Returns
    -------
    fitness : list of float, length P
        Per pathway, the fraction of the samples seen during the ``T``
        steps that it classified correctly before each step's update
        (Nguyen et al. 2020, Sec. 3.3).
    """
    group = PathwayGroup(network, genotypes)
    correct, seen = run_steps(
        group_sgd_step, group, head, X, y, n_steps=n_steps, batch_size=batch_size,
        learning_rate=learning_rate, generator=generator, frozen_cache=frozen_cache,
    )
    group.scatter()
    if seen == 0:
        return [0.0] * len(genotypes)
    return [float(c) / seen for c in correct.tolist()]
