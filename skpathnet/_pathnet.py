"""The PathNet super-network: stacked modules, pathways through them, task heads.

A PathNet [1]_ is ``L`` layers of ``M`` modules. Here, as in Nguyen et al.
[2]_ (Sec. 3.3), a module is a fully connected layer of ``H`` units followed
by a ReLU, the outputs of a layer's active modules are averaged before the
next layer, and each task owns its final (classification) layer.

Engine
------
Each layer's ``M`` modules are stored as one stacked tensor of shape
``(M, D_in, H)`` (weights) and ``(M, H)`` (biases). Training a pathway
*gathers* its active modules once into one matmul-ready tensor of shape
``(D_in, k * H)``, runs its ``T`` SGD steps on that tensor (one matmul per
layer and step, no Python loop over modules), then *scatters* the trained
values back. With plain SGD this is exactly the same computation as updating
the stacked tensor in place, because only the active modules receive a
gradient. The backward pass is written out (:func:`sgd_step`): each
layer's update is one fused ``addmm_``, with no autograd graph and no
gradient buffers. Frozen modules (the pathways fixed by transfer) are kept
in a separate tensor that is never updated; their first-layer output depends
on nothing but the fixed input, so it is computed once per fit for all
training samples.
"""

import math

import numpy as np
import torch

__all__ = [
    "PathNetwork", "Pathway", "TaskHead", "active_modules", "minibatches", "run_steps",
    "sgd_step", "train_pathway",
]


def active_modules(genotype, frozen):
    """Active module indices of each layer for ``genotype`` plus frozen modules.

    Parameters
    ----------
    genotype : ndarray of shape (n_layers, n_active), int
        Module index of each gene; repeated indices count once.
    frozen : sequence of ndarray of int, length n_layers
        Frozen modules of each layer: always active (Nguyen et al. 2020,
        Sec. 3.3: the fixed source pathway is always active on the target).

    Returns
    -------
    trainable, fixed : list of ndarray of int
        Per layer, the sorted distinct active modules that are trainable,
        and the frozen ones.
    """
    trainable, fixed = [], []
    for genes, frz in zip(genotype, frozen):
        active = np.unique(genes)
        trainable.append(np.setdiff1d(active, frz))
        fixed.append(np.asarray(frz, dtype=np.int64))
    return trainable, fixed


class TaskHead:
    """A task's own final linear layer, ``H -> n_classes`` (not shared).

    Attributes
    ----------
    weight : torch.Tensor of shape (n_units, n_classes)
    bias : torch.Tensor of shape (n_classes,)
    """

    def __init__(self, n_units, n_classes, *, device, generator):
        bound = 1.0 / math.sqrt(n_units)
        self.weight = _uniform((n_units, n_classes), bound, generator).to(device)
        self.bias = _uniform((n_classes,), bound, generator).to(device)

    def state(self):
        """Return ``(weight, bias)`` as CPU float32 numpy arrays."""
        return self.weight.cpu().numpy(), self.bias.cpu().numpy()

    @classmethod
    def from_state(cls, state, *, device):
        head = cls.__new__(cls)
        head.weight = torch.as_tensor(np.array(state[0]), device=device)
        head.bias = torch.as_tensor(np.array(state[1]), device=device)
        return head


def _uniform(shape, bound, generator):
    """U(-bound, bound) samples on CPU (so CPU and CUDA runs draw the same)."""
    return (torch.rand(shape, generator=generator) * 2 - 1) * bound


class PathNetwork:
    """Stacked module parameters of a PathNet super-network.

    Parameters
    ----------
    n_features : int
        Input dimensionality ``D`` (12288 for a 3 x 64 x 64 image).
    n_layers, n_modules, n_units : int
        ``L``, ``M`` and ``H``.
    device : torch.device
    generator : torch.Generator
        CPU generator used for the uniform initialisation
        ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))`` of torch's ``nn.Linear``.

    Attributes
    ----------
    weights : list of torch.Tensor, item l of shape (n_modules, D_l, n_units)
    biases : list of torch.Tensor, item l of shape (n_modules, n_units)
    frozen : list of ndarray of int
        Per layer, the indices of frozen modules (never updated).
    """

    def __init__(self, n_features, n_layers, n_modules, n_units, *, device, generator):
        self.n_units = n_units
        self.device = device
        self.weights, self.biases = [], []
        for layer in range(n_layers):
            fan_in = n_features if layer == 0 else n_units
            bound = 1.0 / math.sqrt(fan_in)
            self.weights.append(
                _uniform((n_modules, fan_in, n_units), bound, generator).to(device)
            )
            self.biases.append(_uniform((n_modules, n_units), bound, generator).to(device))
        self.frozen = [np.zeros(0, dtype=np.int64) for _ in range(n_layers)]

    # -- frozen modules -------------------------------------------------------
    def load_frozen(self, frozen, modules):
        """Overwrite and freeze modules.

        Parameters
        ----------
        frozen : list of ndarray of int
            Per layer, module indices to freeze.
        modules : list of tuple of ndarray
            Per layer, ``(W, b)`` of shapes ``(k_l, D_l, H)`` and ``(k_l, H)``
            in the order of ``frozen[l]``.
        """
        for layer, (idx, (w, b)) in enumerate(zip(frozen, modules)):
            idx_t = torch.as_tensor(idx, dtype=torch.long, device=self.device)
            self.weights[layer][idx_t] = torch.as_tensor(w, device=self.device)
            self.biases[layer][idx_t] = torch.as_tensor(b, device=self.device)
            self.frozen[layer] = np.asarray(idx, dtype=np.int64)

    def module_state(self, modules):
        """Copy modules out as CPU numpy arrays (see :meth:`load_frozen`)."""
        out = []
        for layer, idx in enumerate(modules):
            idx_t = torch.as_tensor(idx, dtype=torch.long, device=self.device)
            out.append(
                (
                    self.weights[layer][idx_t].cpu().numpy(),
                    self.biases[layer][idx_t].cpu().numpy(),
                )
            )
        return out

    # -- pathways -------------------------------------------------------------
    def gather(self, genotype):
        """Gather a pathway's modules into matmul-ready tensors.

        Returns
        -------
        pathway : Pathway
        """
        trainable, fixed = active_modules(genotype, self.frozen)
        return Pathway.gather(self, trainable, fixed)

    def frozen_first_layer_sum(self, X, *, batch_size=4096):
        """Sum of the frozen first-layer modules' ReLU outputs for every row of X.

        Parameters
        ----------
        X : torch.Tensor of shape (n_samples, n_features)

        Returns
        -------
        cache : torch.Tensor of shape (n_samples, n_units), or None if no
            first-layer module is frozen.
        """
        idx = self.frozen[0]
        if len(idx) == 0:
            return None
        k = len(idx)
        idx_t = torch.as_tensor(idx, dtype=torch.long, device=self.device)
        w = self.weights[0][idx_t].permute(1, 0, 2).reshape(-1, k * self.n_units)
        b = self.biases[0][idx_t].reshape(-1)
        out = torch.empty(len(X), self.n_units, device=self.device)
        with torch.no_grad():
            for start in range(0, len(X), batch_size):
                z = torch.relu(X[start : start + batch_size] @ w + b)
                out[start : start + batch_size] = z.view(len(z), k, self.n_units).sum(1)
        return out


class Pathway:
    """One pathway's active modules as (trainable, frozen) leaf tensors.

    ``layers[l]`` is ``(trainable, fixed, k)``: ``trainable`` and ``fixed``
    are ``(w, b)`` pairs of shapes ``(D_l, k_l * H)`` and ``(k_l * H,)`` (or
    None), ``k`` the number of active modules averaged in layer ``l``.
    """

    def __init__(self, layers, n_units):
        self.layers = layers
        self.H = n_units

    @classmethod
    def gather(cls, network, trainable, fixed):
        layers = [
            (
                _take(network, layer, tr),
                _take(network, layer, fx),
                len(tr) + len(fx),
            )
            for layer, (tr, fx) in enumerate(zip(trainable, fixed))
        ]
        pathway = cls(layers, network.n_units)
        pathway.network = network
        pathway.trainable = trainable
        return pathway

    def state(self):
        """The whole pathway as fixed CPU numpy weights: ``[(w, b, k), ...]``.

        ``w`` has shape ``(D_l, k * H)`` and ``b`` shape ``(k * H,)``.
        """
        out = []
        for tr, fx, k in self.layers:
            parts = [p for p in (tr, fx) if p is not None]
            w = torch.cat([p[0].detach() for p in parts], 1).cpu().numpy()
            b = torch.cat([p[1].detach() for p in parts]).cpu().numpy()
            out.append((w, b, k))
        return out

    @classmethod
    def from_state(cls, state, *, n_units, device):
        layers = [
            (None, (torch.as_tensor(w, device=device), torch.as_tensor(b, device=device)), k)
            for w, b, k in state
        ]
        return cls(layers, n_units)

    def forward(self, x, head, frozen_cache=None):
        """Logits of shape (batch, n_classes) for inputs of shape (batch, D)."""
        H = self.H
        h = x
        for layer, (tr, fx, k) in enumerate(self.layers):
            total = None
            if tr is not None:
                z = torch.relu(torch.addmm(tr[1], h, tr[0]))
                total = z.view(len(z), -1, H).sum(1)
            if fx is not None:
                if layer == 0 and frozen_cache is not None:
                    zf = frozen_cache
                else:
                    zf = torch.relu(torch.addmm(fx[1], h, fx[0]))
                    zf = zf.view(len(zf), -1, H).sum(1)
                total = zf if total is None else total + zf
            h = total / k
        return torch.addmm(head.bias, h, head.weight)

    def logits(self, X, head, *, batch_size=4096):
        """Logits of shape (n_samples, n_classes) on ``X``, without gradients."""
        out = [torch.zeros(0, head.bias.shape[0], device=head.bias.device)]
        with torch.no_grad():
            for start in range(0, len(X), batch_size):
                out.append(self.forward(X[start : start + batch_size], head))
        return torch.cat(out)

    def scatter(self):
        """Write the trained trainable modules back into the network."""
        net = self.network
        with torch.no_grad():
            for layer, ((tr, _, _), idx) in enumerate(zip(self.layers, self.trainable)):
                if tr is None:
                    continue
                k = len(idx)
                idx_t = torch.as_tensor(idx, dtype=torch.long, device=net.device)
                w, b = tr
                net.weights[layer][idx_t] = (
                    w.detach().view(-1, k, net.n_units).permute(1, 0, 2)
                )
                net.biases[layer][idx_t] = b.detach().view(k, net.n_units)


def _take(network, layer, idx):
    """Modules ``idx`` of ``layer`` as a ``(D, k * H)`` weight and ``(k * H,)`` bias."""
    if len(idx) == 0:
        return None
    idx_t = torch.as_tensor(idx, dtype=torch.long, device=network.device)
    w = network.weights[layer][idx_t].permute(1, 0, 2).reshape(-1, len(idx) * network.n_units)
    b = network.biases[layer][idx_t].reshape(-1)
    return w.contiguous(), b


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


def train_pathway(
    network, genotype, head, X, y, *, n_steps, batch_size, learning_rate, generator,
    frozen_cache=None,
):
    """Train one pathway and its task head with plain SGD; return its fitness.

    Parameters
    ----------
    network : PathNetwork
    genotype : ndarray of shape (n_layers, n_active), int
    head : TaskHead
        Updated in place together with the pathway's trainable modules.
    X : torch.Tensor of shape (n_samples, n_features), float32
    y : torch.Tensor of shape (n_samples,), int64
    n_steps : int
        ``T``, the number of mini-batch steps.
    batch_size : int
    learning_rate : float
    generator : torch.Generator
        Generator on the device of ``X`` for the mini-batch shuffles.
    frozen_cache : torch.Tensor of shape (n_samples, n_units), default=None
        :meth:`PathNetwork.frozen_first_layer_sum` of ``X``.

    Returns
    -------
    fitness : float
        Fraction of the training samples seen during the ``T`` steps that
        were classified correctly (before each step's update), as in Nguyen
        et al. (2020), Sec. 3.3.
    """
    pathway = network.gather(genotype)
    correct, seen = run_steps(
        sgd_step, pathway, head, X, y, n_steps=n_steps, batch_size=batch_size,
        learning_rate=learning_rate, generator=generator, frozen_cache=frozen_cache,
    )
    pathway.scatter()
    return float(correct) / max(seen, 1)


def run_steps(
    step, pathways, head, X, y, *, n_steps, batch_size, learning_rate, generator,
    frozen_cache=None,
):
    """Run ``n_steps`` SGD steps of ``step`` on shuffled mini-batches.

    Parameters
    ----------
    step : callable
        ``step(pathways, head, x, target, learning_rate, cache)`` updates in
        place and returns the number of correct answers (a tensor), e.g.
        :func:`sgd_step`.
    pathways : Pathway or PathwayGroup
    head : TaskHead
    X, y, n_steps, batch_size, learning_rate, generator, frozen_cache
        As in :func:`train_pathway`. Each mini-batch is gathered from ``X``
        (and ``frozen_cache``) by index on their device.

    Returns
    -------
    correct : torch.Tensor
        Sum of the step's correct counts (same shape as one step's).
    seen : int
        Number of samples seen.
    """
    correct, seen = 0, 0
    with torch.no_grad():
        for idx in minibatches(len(X), n_steps, batch_size, generator, X.device):
            cache = None if frozen_cache is None else frozen_cache.index_select(0, idx)
            correct = correct + step(
                pathways, head, X.index_select(0, idx), y.index_select(0, idx),
                learning_rate, cache,
            )
            seen += len(idx)
    return correct, seen


def sgd_step(pathway, head, x, target, learning_rate, frozen_cache=None):
    """One plain-SGD step of a pathway and its head on a mini-batch, in place.

    The forward pass is :meth:`Pathway.forward`; the backward pass of the
    mean cross-entropy is written out by hand so that each layer's weight
    update is one fused ``addmm_`` (``W -= lr * h.T @ dz``) with no gradient
    buffer and no autograd graph. Each layer's input gradient is computed
    with the weights before their update, as backpropagation requires.

    Parameters
    ----------
    pathway : Pathway
        Its trainable leaves are updated in place.
    head : TaskHead
        Updated in place.
    x : torch.Tensor of shape (batch, n_features)
    target : torch.Tensor of shape (batch,), int64
    learning_rate : float
    frozen_cache : torch.Tensor of shape (batch, n_units), default=None

    Returns
    -------
    correct : torch.Tensor, int64 scalar
        Samples of the batch classified correctly before the update.
    """
    H = pathway.H
    batch = len(x)
    inputs, acts = [], []
    h = x
    for layer, (tr, fx, k) in enumerate(pathway.layers):
        total, a_t, a_f = None, None, None
        if tr is not None:
            a_t = torch.relu(torch.addmm(tr[1], h, tr[0]))
            total = a_t.view(batch, -1, H).sum(1)
        if fx is not None:
            if layer == 0 and frozen_cache is not None:
                s_f = frozen_cache
            else:
                a_f = torch.relu(torch.addmm(fx[1], h, fx[0]))
                s_f = a_f.view(batch, -1, H).sum(1)
            total = s_f if total is None else total + s_f
        inputs.append(h)
        acts.append((a_t, a_f))
        h = total / k
    logits = torch.addmm(head.bias, h, head.weight)
    correct = (logits.argmax(1) == target).sum()
    # d(mean cross-entropy)/d(logits) = (softmax - one_hot) / batch
    grad = torch.softmax(logits, 1)
    grad[torch.arange(batch, device=x.device), target] -= 1.0
    grad /= batch
    dh = grad @ head.weight.T
    head.weight.addmm_(h.T, grad, alpha=-learning_rate)
    head.bias.add_(grad.sum(0), alpha=-learning_rate)
    for layer in range(len(pathway.layers) - 1, -1, -1):
        tr, fx, k = pathway.layers[layer]
        a_t, a_f = acts[layer]
        ds = dh / k
        dh = None
        if layer > 0 and fx is not None:
            # frozen modules pass the gradient down but are never updated
            dz_f = ds.repeat(1, a_f.shape[1] // H) * (a_f > 0)
            dh = dz_f @ fx[0].T
        if tr is not None:
            dz_t = ds.repeat(1, a_t.shape[1] // H) * (a_t > 0)
            if layer > 0:
                d = dz_t @ tr[0].T
                dh = d if dh is None else dh + d
            tr[0].addmm_(inputs[layer].T, dz_t, alpha=-learning_rate)
            tr[1].add_(dz_t.sum(0), alpha=-learning_rate)
    return correct
