"""Conventional fine-tuning transfer, with the capacity of one PathNet pathway."""

import numbers
from dataclasses import dataclass
from typing import Optional

import numpy as np
import torch
from skorch import NeuralNetClassifier
from skorch.callbacks import Callback
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils import check_random_state

from ..utils._clips import mean_per_clip
from ..utils._scaling import fit_standardizer, standardize
from ..utils._threads import torch_threads
from .._transfer import TransferMixin
from ..utils._params import Boolean, Integer, IntegerTuple, Options, Real

__all__ = ["FineTuneClassifier"]

@dataclass
class HeadState:
    """A source task's output layer (state dict) and its feature scaler (or None)."""

    head: dict
    scaler: Optional[tuple]


@dataclass
class EWCAnchor:
    """What Elastic Weight Consolidation keeps of one learnt task (Kirkpatrick et al. 2017).

    Attributes
    ----------
    fisher : dict of str to Tensor
        Per trunk parameter (by its name in ``trunk.named_parameters()``),
        the diagonal of the Fisher information on the task's training
        segments (:func:`fisher_diagonal`), CPU float32.
    params : dict of str to Tensor
        The trunk parameters' values after the task, ``theta*`` (CPU).
    """

    fisher: dict
    params: dict


@dataclass
class TrunkState:
    """What ``fit_transfer`` leaves: the trunk after the last source, and each head.

    Attributes
    ----------
    n_features : int
        Features per segment of the sources.
    input : int or tuple of int
        The network's first argument (features, or the CNN's segment shape).
    hidden_units : tuple of int
    architecture : dict
        The parameters that shape the trunk, at ``fit_transfer``.
    trunk : dict
        The trunk's state dict (CPU tensors).
    tasks : list of HeadState
        Each source's output layer and scaler.
    ewc : list of (EWCAnchor or None), or None, default=None
        Per source, its EWC anchor when it was learnt with ``ewc_lambda >
        0`` (else None); None when no source was. Files written before EWC
        existed read as None.
    """

    n_features: int
    input: object
    hidden_units: tuple
    architecture: dict
    trunk: dict
    tasks: list
    ewc: Optional[list] = None


@dataclass
class _SavedNet:
    """``net_`` in a model file: the module's state dict and the number of classes."""

    module: dict
    n_classes: int


class _MLP(torch.nn.Module):
    """A trunk of Linear + ReLU layers and a task-specific linear output layer."""

    def __init__(self, n_features, hidden_units, n_classes):
        super().__init__()
        layers = []
        width = n_features
        for units in hidden_units:
            layers += [torch.nn.Linear(width, units), torch.nn.ReLU()]
            width = units
        self.trunk = torch.nn.Sequential(*layers)
        self.head = torch.nn.Linear(width, n_classes)

    def forward(self, X):
        return self.head(self.trunk(X))


#: Per-sample gradients held at once by :func:`fisher_diagonal` (floats): 64 MiB.
_FISHER_FLOATS = 1 << 24


def fisher_diagonal(module, X):
    """Diagonal of the Fisher information of ``module.trunk``'s parameters on the rows ``X``.

    ``F = 1 / n * sum over rows x of sum over classes c of p(c | x) *
    (d log p(c | x) / d theta) ** 2``, the expectation under the model's own
    predictive distribution (the Fisher information, not the "empirical
    Fisher" of the true labels; Kirkpatrick et al. 2017, PNAS, where EWC's
    penalty weights each parameter by it), for every trunk parameter
    ``theta``; the output layer (``module.head``) is the task's own and not
    penalised. Exact, from per-row gradients of every class's
    log-probability: for a trunk of linear layers (the MLP) each row's
    weight gradient is the outer product of the layer's output gradient and
    its input, so the weighted sum of their squares is one matrix product
    per class (Goodfellow 2015, "Efficient per-example gradient
    computations"); any other trunk (the CNN) through
    :func:`torch.func.vmap` of :func:`torch.func.grad`, in chunks of at
    most ``2 ** 24`` gradient floats. Uses no random numbers.

    Parameters
    ----------
    module : _MLP or _CNN
        The trained network (``trunk`` and ``head``), on ``X``'s device.
    X : Tensor of shape (n_rows, n_features), float32
        The task's standardised training segments.

    Returns
    -------
    fisher : dict of str to Tensor
        By parameter name (``module.trunk.named_parameters()``), each of
        the parameter's shape, on its device.
    """
    was_training = module.training
    module.eval()
    try:
        linear = all(isinstance(layer, torch.nn.Linear) or not any(True for _ in
                     layer.parameters()) for layer in module.trunk)
        fisher = (_fisher_linear if linear else _fisher_vmap)(module, X)
    finally:
        module.train(was_training)
    return {name: f / len(X) for name, f in fisher.items()}


def _fisher_linear(module, X, chunk=4096):
    """Sums over rows of :func:`fisher_diagonal` for a trunk of Linear and parameter-free layers."""
    trunk, head = module.trunk, module.head
    fisher = {name: torch.zeros_like(p) for name, p in trunk.named_parameters()}
    for start in range(0, len(X), chunk):
        h, saved = X[start : start + chunk], []
        for name, layer in trunk.named_children():
            if isinstance(layer, torch.nn.Linear):
                a = h.detach()
                h = layer(h)
                saved.append((name, layer, a, h))
            else:
                h = layer(h)
        log_p = torch.log_softmax(head(h), 1)
        proba = log_p.detach().exp()
        outputs = [z for *_, z in saved]
        for c in range(log_p.shape[1]):
            deltas = torch.autograd.grad(log_p[:, c].sum(), outputs, retain_graph=True)
            for (name, layer, a, _), delta in zip(saved, deltas):
                weighted = delta.square() * proba[:, c : c + 1]
                fisher[f"{name}.weight"] += weighted.T @ a.square()
                if layer.bias is not None:
                    fisher[f"{name}.bias"] += weighted.sum(0)
    return fisher


def _fisher_vmap(module, X):
    """Sums over rows of :func:`fisher_diagonal` for any trunk, by per-row gradients."""
    from torch.func import functional_call, grad, vmap

    trunk, head = module.trunk, module.head
    params = {name: p.detach() for name, p in trunk.named_parameters()}
    n_params = sum(p.numel() for p in params.values())
    chunk = max(1, min(len(X), _FISHER_FLOATS // max(n_params, 1)))
    fisher = {name: torch.zeros_like(p) for name, p in params.items()}
    with torch.no_grad():
        for c in range(head.out_features):
            def log_prob(theta, x, c=c):
                out = head(functional_call(trunk, theta, (x.unsqueeze(0),)))
                return torch.log_softmax(out, 1)[0, c]

            per_row = vmap(grad(log_prob), in_dims=(None, 0))
            for start in range(0, len(X), chunk):
                x = X[start : start + chunk]
                weight = torch.softmax(module(x), 1)[:, c]
                for name, g in per_row(params, x).items():
                    fisher[name] += torch.tensordot(weight, g.square(), dims=1)
    return fisher


def ewc_penalty(trunk, anchors, ewc_lambda):
    """EWC's penalty ``ewc_lambda / 2 * sum_k sum_p F_k[p] * (theta_p - theta*_k[p]) ** 2``.

    One quadratic term per earlier task ``k`` (:class:`EWCAnchor`, on the
    trunk's device), as in Kirkpatrick et al. (2017, PNAS, Eq. 3 and the
    sum over tasks that follows it). A 0-d tensor with gradients.
    """
    total = 0.0
    for name, p in trunk.named_parameters():
        for anchor in anchors:
            total = total + (anchor.fisher[name] * (p - anchor.params[name]).square()).sum()
    return 0.5 * ewc_lambda * total


class _EWCNet(NeuralNetClassifier):
    """skorch's classifier whose training loss adds the EWC penalty of earlier tasks.

    The penalty enters through :meth:`get_loss`, skorch's hook for a custom
    loss (its docs, "Customization": the ``get_*`` methods are safe to
    override); with ``ewc_lambda=0`` or no anchors the loss is the
    criterion's alone, unchanged.
    """

    def __init__(self, *args, ewc_lambda=0.0, ewc_anchors=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.ewc_lambda = ewc_lambda
        self.ewc_anchors = ewc_anchors

    def get_loss(self, y_pred, y_true, X=None, training=False):
        loss = super().get_loss(y_pred, y_true, X=X, training=training)
        if training and self.ewc_lambda > 0 and self.ewc_anchors:
            loss = loss + ewc_penalty(self.module_.trunk, self.ewc_anchors, self.ewc_lambda)
        return loss


class _FisherAtEnd(Callback):
    """At the end of training, the task's :class:`EWCAnchor` from its training rows."""

    def on_train_end(self, net, X=None, y=None, **kwargs):
        module = net.module_
        device = next(module.parameters()).device
        X_t = torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32)).to(device)
        fisher = fisher_diagonal(module, X_t)
        self.anchor_ = EWCAnchor({k: v.detach().cpu() for k, v in fisher.items()},
                                 _state(module.trunk))


class _ValScore(Callback):
    """Record the clip-level accuracy on a validation set after each epoch."""

    def __init__(self, segments, clip_index, y_enc):
        self.segments = segments
        self.clip_index = clip_index
        self.y_enc = y_enc

    def on_epoch_end(self, net, **kwargs):
        # A DataLoader draws a seed from torch's generator even without
        # shuffling: fork it so that monitoring leaves training unchanged.
        with torch.random.fork_rng(devices=[]):
            proba = net.predict_proba(self.segments)
        proba = mean_per_clip(proba, self.clip_index)
        net.history.record("val_score", float(np.mean(proba.argmax(1) == self.y_enc)))


class _CNN(torch.nn.Module):
    """Convolution blocks and global average pooling, then a task-specific linear output layer.

    Each block: 3 x 3 convolution (padding 1), ReLU, 2 x 2 max pooling. The
    trunk takes flattened segments and unflattens them to ``input_shape``,
    so that scaling, batching and prediction are those of the MLP.
    """

    def __init__(self, input_shape, hidden_units, n_classes):
        super().__init__()
        layers = [torch.nn.Unflatten(1, tuple(int(d) for d in input_shape))]
        width = int(input_shape[0])
        for channels in hidden_units:
            layers += [torch.nn.Conv2d(width, channels, 3, padding=1), torch.nn.ReLU(),
                       torch.nn.MaxPool2d(2)]
            width = channels
        layers += [torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten()]
        self.trunk = torch.nn.Sequential(*layers)
        self.head = torch.nn.Linear(width, n_classes)

    def forward(self, X):
        return self.head(self.trunk(X))


#: ``architecture`` -> the network class; its first argument is the input
#: (features per segment for the MLP, the segment's (C, H, W) for the CNN).
_NETWORKS = {"mlp": _MLP, "cnn": _CNN}


def _trunk(architecture, shape, hidden_units):
    return _NETWORKS[architecture](shape, hidden_units, 1).trunk


def _load(factory, state, *args):
    """Build ``factory(*args)`` and load ``state``, leaving torch's RNG untouched."""
    with torch.random.fork_rng(devices=[]):
        module = factory(*args)
    module.load_state_dict(state)
    return module


def _state(module):
    """A detached CPU copy of ``module``'s parameters (never aliased)."""
    return {k: v.detach().cpu().clone() for k, v in module.state_dict().items()}


class FineTuneClassifier(TransferMixin, ClassifierMixin, BaseEstimator):
    """Fine-tuning transfer baseline: an MLP of PathNet-pathway capacity.

    A multilayer perceptron (``hidden_units`` fully connected layers, each
    followed by a ReLU, then a task-specific linear output layer) trained
    with plain SGD on the softmax cross-entropy, through skorch's
    :class:`~skorch.classifier.NeuralNetClassifier`.

    :meth:`fit_transfer` trains it on one source corpus, or on several one
    after another (the cascaded, two-stage fine-tuning of Ng et al. [1]_:
    source 1, then source 2 starting from source 1's trunk), each with its
    own output layer. A later :meth:`fit` on the target starts from the last
    source's trunk, every trunk layer trainable, with a new output layer:
    conventional fine-tuning, the baseline PathNet transfer is compared
    with [2]_. The transferred trunk survives :func:`sklearn.base.clone`,
    so every ``cross_validate`` or ``GridSearchCV`` fold starts from it.

    Each source keeps its output layer, and :meth:`predict_source` scores a
    source task with the *current* trunk, as updated by later training (the
    next source, then the target): the drop of source accuracy after target
    training measures catastrophic forgetting, which PathNet's frozen
    pathways avoid.

    With ``ewc_lambda > 0``, Elastic Weight Consolidation [4]_ softens that
    forgetting: after each source task the diagonal Fisher information of
    the trunk parameters on its training segments (:func:`fisher_diagonal`)
    and the parameters' values ``theta*`` are kept, and every later task
    (the next sources and the target) minimises its cross-entropy plus
    ``ewc_lambda / 2 * sum_k sum_p F_k[p] (theta_p - theta*_k[p]) ** 2``
    over the earlier tasks ``k`` (:func:`ewc_penalty`, through skorch's
    ``get_loss``).

    Parameters
    ----------
    architecture : {"mlp", "cnn"}, default="mlp"
        ``"mlp"``: the multilayer perceptron above. ``"cnn"``: a small
        convolutional network trained the same way (the kind of network
        Nguyen et al. [2]_ fine-tune, there AlexNet, Zhang et al. 2018), for
        image segments (n_samples, C, H, W) or clips of them: one block per
        ``hidden_units`` entry (that many output channels: 3 x 3
        convolution with padding 1, ReLU, 2 x 2 max pooling), then global
        average pooling into the output layer. ``hidden_units=(16, 32, 64)``
        is a common small choice.
    hidden_units : tuple of int, default=(80, 80, 80)
        Units of each hidden layer (``"cnn"``: output channels of each
        convolution block). "Same capacity as PathNet": a PathNet
        pathway (Nguyen et al. 2020: L = 3 layers, N = 4 active modules of
        20 units per layer) has 4 x 20 = 80 hidden units per layer, so the
        default is 3 layers of 80 units. The first layer, which holds nearly
        all the parameters for 3 x 64 x 64 = 12288 input features, then has
        exactly as many weights as a pathway's first layer
        (12288 x 80 + 80); the later layers are fully connected (80 x 80)
        where a pathway averages its modules' outputs (4 x 20 x 20), an
        upper bound in favour of the baseline.
    max_epochs : int, default=400
        Passes over the training segments, for each source and for the
        target; 0 trains nothing (the target model is then the source
        trunk with an untrained output layer). The default matches PathNet's
        default budget of SGD steps: 200 generations x 2 pathways x
        ``n_samples / batch_size`` steps.
    learning_rate : float, default=0.02
        Learning rate of plain SGD (no momentum, no weight decay), as for
        PathNet (Nguyen et al. 2020: 0.02).
    batch_size : int, default=64
        Mini-batch size in segments, for training and prediction.
    standardize : bool, default=True
        Standardise each input feature with the training set's mean and
        standard deviation (each source and the target use their own
        statistics), as :class:`~skpathnet.PathNetClassifier` does.
    device : {"cpu", "cuda"} or str, default="cpu"
        Torch device for the network and the mini-batches.
    n_threads : int or None, default=None
        Torch CPU threads during fit and predict (restored afterwards); set
        to 1 with ``n_jobs`` workers. None leaves torch's setting.
    random_state : int, RandomState instance or None, default=None
        Seeds initialisation and mini-batch order. Torch is seeded inside
        :func:`torch.random.fork_rng`, so torch's global random state is
        left as it was. With an int, results are reproducible on CPU (for a
        fixed ``n_threads``).
    verbose : int, default=0
        0: silent; 1: skorch's table of per-epoch losses.
    ewc_lambda : float, default=0.0
        Strength of the Elastic Weight Consolidation penalty [4]_ (see
        above); 0.0: plain (cascaded) fine-tuning, bit for bit as without
        this parameter, and no Fisher information is computed. A source
        task learnt with ``ewc_lambda > 0`` keeps its Fisher information
        and parameters (in the transferred state: model files and
        :func:`sklearn.base.clone` keep them); a task learnt with 0 keeps
        none, and no later task is held to it. Its scale depends on the
        Fisher's (a mean over training segments, so about
        ``1 / n_parameters`` of the squared gradient norm): choose it on
        source tasks, e.g. by the final mean accuracy of a two-task
        sequence on held-out speakers (``benchmarks/bench_sequence.py``).
        The penalty's curvature is ``ewc_lambda * F``: plain SGD diverges on
        a parameter where ``learning_rate * ewc_lambda * F`` exceeds 2, so
        too large a value ruins the fit rather than freezing it.
        ``history_``'s ``train_loss`` then includes the penalty.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Target class labels.
    net_ : skorch.classifier.NeuralNetClassifier
        The trained target network; ``net_.module_.trunk`` and
        ``net_.module_.head`` are the trunk and the target output layer.
        It expects standardised, flattened segments.
    history_ : list of dict
        One record per target epoch: ``epoch`` (from 1), ``train_loss``
        (mean cross-entropy), and ``val_score`` (clip-level accuracy on
        ``X_val``) when :meth:`fit` got a validation set.
    n_features_in_ : int
        Number of input features per segment (12288 for 3 x 64 x 64 images).
    input_shape_ : tuple of int
        Shape of one input segment as given, e.g. ``(3, 64, 64)``.
    source_classes_ : list of ndarray
        After :meth:`fit_transfer`: class labels of each source task.
    source_history_ : list of list of dict
        Per-epoch records of each source task (as ``history_``).

    See Also
    --------
    skpathnet.PathNetClassifier : PathNet transfer with frozen pathways.

    Notes
    -----
    Inputs are those of :class:`~skpathnet.PathNetClassifier`: a 2-D array
    of shape (n_samples, n_features), an image batch of shape
    (n_samples, 3, 64, 64) (flattened), or clips (a list or 1-D object array
    whose item ``i`` has shape ``(n_segments_i, 3, 64, 64)``). With clips,
    training uses every segment with its clip's label and
    :meth:`predict_proba` averages each clip's segment posteriors.

    A classical (non-neural) baseline on the same inputs:
    :class:`SegmentLinearClassifier` (a linear model on every segment, its
    posteriors averaged per clip); any other scikit-learn classifier fits
    the segments of :func:`skpathnet.utils.flatten_clips` the same way.

    References
    ----------
    .. [1] H.-W. Ng, V. D. Nguyen, V. Vonikakis and S. Winkler, "Deep
       learning for emotion recognition on small datasets using transfer
       learning", Proc. ACM ICMI, pp. 443-449, 2015.
    .. [2] D. Nguyen, D. T. Nguyen, S. Sridharan, M. Abdelrazek, S. Denman,
       S. N. Tran, R. Zeng and C. Fookes, "Meta Transfer Learning for
       Emotion Recognition", arXiv:2006.13211, 2020.
    .. [3] J. Yosinski, J. Clune, Y. Bengio and H. Lipson, "How transferable
       are features in deep neural networks?", NeurIPS, 2014.
    .. [4] J. Kirkpatrick, R. Pascanu, N. Rabinowitz, J. Veness, G. Desjardins,
       A. A. Rusu et al., "Overcoming catastrophic forgetting in neural
       networks", PNAS 114(13), pp. 3521-3526, 2017.

    Examples
    --------
    >>> import numpy as np
    >>> from skpathnet.baselines import FineTuneClassifier
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(128, 10)).astype("float32")
    >>> y = (X[:, 0] > 0).astype(int)
    >>> clf = FineTuneClassifier(max_epochs=20, learning_rate=0.1, random_state=0)
    >>> clf.fit(X, y).score(X, y) > 0.8
    True
    """

    def __init__(
        self,
        *,
        architecture="mlp",
        hidden_units=(80, 80, 80),
        max_epochs=400,
        learning_rate=0.02,
        batch_size=64,
        standardize=True,
        device="cpu",
        n_threads=None,
        random_state=None,
        verbose=0,
        ewc_lambda=0.0,
    ):
        self.architecture = architecture
        self.hidden_units = hidden_units
        self.max_epochs = max_epochs
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.standardize = standardize
        self.device = device
        self.n_threads = n_threads
        self.random_state = random_state
        self.verbose = verbose
        self.ewc_lambda = ewc_lambda

    # What each parameter may be (skpathnet.utils._params).
    _parameter_constraints = {
        "architecture": Options(tuple(_NETWORKS)),
        "hidden_units": IntegerTuple(1),
        "max_epochs": Integer(0),
        "learning_rate": Real(0, low_open=True),
        "batch_size": Integer(1),
        "standardize": Boolean(),
        "n_threads": Integer(1, none=True),
        "ewc_lambda": Real(0),
    }
    # Attributes written by fit_transfer: they travel through sklearn.clone.
    _transfer_attrs = ("source_classes_", "source_history_", "_source_state")
    # Attributes written by fit: reset by fit_transfer.
    _target_attrs = ("classes_", "history_", "net_", "_target_scaler")

    # -- sklearn protocol -----------------------------------------------------
    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.classifier_tags.poor_score = True
        return tags

    def __sklearn_is_fitted__(self):
        return hasattr(self, "net_")

    # -- training -------------------------------------------------------------
    def fit(self, X, y, *, X_val=None, y_val=None):
        """Train on (X, y), starting from the source trunk if transferred.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, 3, 64, 64), or clips
            Training data; clips are a sequence of ``n_samples`` arrays of
            shape ``(n_segments_i, 3, 64, 64)`` (see Notes).
        y : array-like of shape (n_samples,)
            One label per sample (clip).
        X_val, y_val : same kinds as X, y, default=None
            Optional held-out data scored after each epoch
            (``history_[e]["val_score"]``, clip-level accuracy). Not used
            for training or early stopping.

        Returns
        -------
        self : FineTuneClassifier

        Raises
        ------
        ValueError
            If a parameter is invalid, inputs are empty, malformed or
            non-finite, y has a single class, or the feature count or
            ``hidden_units`` differ from the transferred source's.
        KeyboardInterrupt
            Re-raised if training is interrupted (skorch alone would return
            a half-trained network).

        Notes
        -----
        The fit is atomic: if it raises or is interrupted, every attribute,
        a previous fit's included, is left as it was.
        """
        return self._fit(X, y, X_val=X_val, y_val=y_val)

    def _train_target(self, segments, y_seg, classes, rng, *, clip_index, owned, extra,
                      X_val, y_val):
        """Train the target network (see ``TransferMixin._fit``); its fitted attributes."""
        source = getattr(self, "_source_state", None)
        trunk = None if source is None else source.trunk
        val = None
        if X_val is not None:
            val_segments, val_index, val_owned = self._prepare_X(X_val, reset=False)
            y_val = self._check_y(y_val, val_index, train=False, name="y_val")
            # Encoded like y; labels unseen in training (-1) always count as misses.
            val_y = np.full(len(y_val), -1, dtype=np.int64)
            seen = np.isin(y_val, classes)
            val_y[seen] = np.searchsorted(classes, y_val[seen])
            val = (val_segments, val_index, val_owned, val_y)
        net, scaler, history = self._fit_stage(
            segments, y_seg, len(classes), _seed(rng), trunk=trunk, owned=owned, val=val,
            anchors=self._anchors(None if source is None else source.ewc),
        )
        return {"net_": net, "history_": history, "_target_scaler": scaler}

    def fit_transfer(self, source_X, source_y, *, append=False):
        """Train on source corpora, one after another, and keep the trunk.

        Calling ``fit_transfer`` again replaces the previous sources (unless
        ``append``), and any target fit is discarded.

        Parameters
        ----------
        source_X : X-like, or list of X-like
            One source corpus (any input accepted by :meth:`fit`), or a list
            of several: the first trains a fresh network, each next one
            fine-tunes the previous trunk (all layers trainable) with its own
            new output layer (cascaded fine-tuning, Ng et al. 2015).
        source_y : array-like of shape (n_samples,), or list of them
            Labels of each source corpus. A list whose items are themselves
            arrays or lists means several corpora.
        append : bool, default=False
            Continue the cascade: keep the sources already transferred (e.g.
            of a model read by :func:`skpathnet.load`) and fine-tune their
            last trunk on these, numbered after them (``source_classes_``,
            ``predict_source(source=k)``), as
            :meth:`PathNetClassifier.fit_transfer
            <skpathnet.PathNetClassifier.fit_transfer>` does. The earlier
            sources' EWC anchors hold the new ones with ``ewc_lambda > 0``.
            A target fit is discarded and its trunk is not continued: the
            cascade goes on from the last source's trunk. With an integer
            ``random_state`` the new sources draw from
            ``SeedSequence([random_state, n_earlier_sources])``, not the
            first sources' draws again. Without earlier sources it is the
            same as False.

        Returns
        -------
        self : FineTuneClassifier

        Raises
        ------
        ValueError
            If a source is empty, malformed, non-finite or has a single
            class, the sources have different numbers of features per
            segment, or source_X and source_y list different numbers of
            corpora; with ``append``, if the new sources do not fit the
            transferred trunk (features per segment, segment shape of the
            CNN, ``architecture``, ``hidden_units``). Every source is
            checked before any is trained, and the message names the source
            ("source 2 of 2: ...").
        KeyboardInterrupt
            Re-raised if training is interrupted; the previous sources and
            target fit are then kept unchanged (as on any error).
        """
        rng = check_random_state(self.random_state)
        previous = getattr(self, "_source_state", None) if append else None
        trunk = None
        tasks, classes_list, histories, anchors = [], [], [], []
        if previous is not None:
            trunk, tasks = previous.trunk, list(previous.tasks)
            classes_list, histories = list(self.source_classes_), list(self.source_history_)
            anchors = list(previous.ewc or [None] * len(tasks))
            if isinstance(self.random_state, numbers.Integral):
                seed = np.random.SeedSequence([int(self.random_state), len(tasks)])
                rng = np.random.RandomState(seed.generate_state(1)[0])
        fisher = self.ewc_lambda > 0
        with self._atomic_fit():
            for source in self._source_tasks(source_X, source_y):
                if previous is not None and source.index == 0:
                    self._check_append(source.segments, previous)
                callbacks = [("ewc_fisher", _FisherAtEnd())] if fisher else []
                net, scaler, history = self._fit_stage(
                    source.segments, source.y_seg, len(source.classes), _seed(rng), trunk=trunk,
                    owned=source.owned, anchors=self._anchors(anchors), callbacks=callbacks,
                )
                trunk = _state(net.module_.trunk)
                tasks.append(HeadState(_state(net.module_.head), scaler))
                anchors.append(callbacks[0][1].anchor_ if fisher else None)
                classes_list.append(source.classes)
                histories.append(history)
        # Every source trained: replace the previous sources and drop any target fit.
        self._forget(self._transfer_attrs + self._target_attrs)
        self.source_classes_ = classes_list
        self.source_history_ = histories
        self._source_state = TrunkState(
            self.n_features_in_, self._network_input(), tuple(self.hidden_units),
            self._architecture(), trunk, tasks,
            ewc=anchors if any(a is not None for a in anchors) else None)
        return self

    def _check_append(self, segments, previous):
        """Check that the first new source of ``append=True`` fits the transferred trunk."""
        try:
            self._check_transferred(segments.shape[1])
            if self._network_input() != previous.input:
                raise ValueError(
                    f"X has segments of shape {tuple(self.input_shape_)}, but the transferred "
                    f"trunk expects {previous.input}."
                )
        except ValueError as exc:
            raise ValueError(f"append=True: the new sources do not fit the transferred "
                             f"trunk: {exc}") from exc

    def _anchors(self, anchors):
        """The EWC anchors a new task is held to: none unless ``ewc_lambda > 0``."""
        if not self.ewc_lambda > 0 or not anchors:
            return []
        return [a for a in anchors if a is not None]

    def _architecture(self):
        """The parameters that shape the transferred trunk."""
        return {"architecture": self.architecture,
                "hidden_units": tuple(int(u) for u in self.hidden_units)}

    def _network_input(self):
        """The network's first argument: features per segment, or the segment shape (CNN)."""
        return tuple(self.input_shape_) if self.architecture == "cnn" else self.n_features_in_

    def _fit_stage(self, segments, y_seg, n_classes, seed, *, trunk, owned, val=None,
                   anchors=(), callbacks=()):
        """Train one task; return ``(net, scaler, history)``.

        ``trunk`` (a trunk state dict or None) initialises the trunk; the
        output layer is always new. ``anchors``: the :class:`EWCAnchor` of
        the earlier tasks whose penalty the loss adds (``ewc_lambda``);
        ``callbacks``: more ``(name, callback)`` for the skorch net. Torch is
        seeded with ``seed`` inside a forked random state.
        """
        device = self._device()
        scaler = None
        if self.standardize:
            scaler = fit_standardizer(segments)
            segments = standardize(segments, *scaler, inplace=owned)
        callbacks = list(callbacks)
        if val is not None:
            val_segments, val_index, val_owned, val_y = val
            if scaler is not None:
                val_segments = standardize(val_segments, *scaler, inplace=val_owned)
            callbacks.append(("val_score", _ValScore(val_segments, val_index, val_y)))
        net = self._new_net(n_classes, callbacks, device, anchors=[
            EWCAnchor(*({k: v.to(device) for k, v in part.items()}
                        for part in (a.fisher, a.params))) for a in anchors])
        y_seg = np.asarray(y_seg, dtype=np.int64)
        with torch.random.fork_rng(devices=[]):
            # Only the CPU generator is used (initialisation, shuffling).
            torch.default_generator.manual_seed(seed)
            net.initialize()
            if trunk is not None:
                net.module_.trunk.load_state_dict(trunk)
            X_fit = np.ascontiguousarray(segments, dtype=np.float32)
            # skorch's partial_fit swallows KeyboardInterrupt and returns a half-trained
            # net; its fit loop, called directly, lets Ctrl-C propagate.
            net.notify("on_train_begin", X=X_fit, y=y_seg)
            net.fit_loop(X_fit, y_seg)
            net.notify("on_train_end", X=X_fit, y=y_seg)
        history = [
            {k: row[k] for k in ("epoch", "train_loss", "val_score") if k in row}
            for row in net.history
        ]
        return net, scaler, history

    def _new_net(self, n_classes, callbacks, device, anchors=()):
        """The skorch net of one task (not initialised); ``anchors`` on ``device``."""
        options = {} if self.verbose else {"callbacks__print_log": None}
        first = "input_shape" if self.architecture == "cnn" else "n_features"
        return _EWCNet(
            _NETWORKS[self.architecture],
            **{f"module__{first}": self._network_input()},
            module__hidden_units=tuple(int(u) for u in self.hidden_units),
            module__n_classes=n_classes,
            criterion=torch.nn.CrossEntropyLoss,
            optimizer=torch.optim.SGD,
            lr=self.learning_rate,
            max_epochs=self.max_epochs,
            batch_size=self.batch_size,
            iterator_train__shuffle=True,
            train_split=None,
            classes=list(range(n_classes)),
            callbacks=callbacks,
            callbacks__valid_acc=None,
            device=str(device),
            verbose=int(self.verbose),
            ewc_lambda=float(self.ewc_lambda),
            ewc_anchors=list(anchors),
            **options,
        )

    # -- model files (skpathnet.io): the skorch net as its weights ---------------
    def _saved_state(self, state):
        """The attributes :func:`skpathnet.save` writes: ``net_`` as its module's weights."""
        if "net_" in state:
            net = state.pop("net_")
            state["net_"] = _SavedNet(_state(net.module_), len(self.classes_))
        return state

    def _after_load(self):
        """Rebuild ``net_`` from the weights read by :func:`skpathnet.load`."""
        saved = self.__dict__.get("net_")
        if isinstance(saved, _SavedNet):
            net = self._new_net(saved.n_classes, [], self._device())
            with torch.random.fork_rng(devices=[]):
                net.initialize()
            net.module_.load_state_dict(saved.module)
            self.net_ = net

    # -- prediction (public methods in TransferMixin) --------------------------
    def _target_segment_proba(self, X):
        return self._segment_proba(X, self.net_.module_.head, self._target_scaler)

    def _source_segment_proba(self, X, source):
        task = self._source_state.tasks[source]
        n_classes = len(self.source_classes_[source])
        head = _load(
            torch.nn.Linear, task.head, self._source_state.hidden_units[-1], n_classes
        )
        return self._segment_proba(X, head, task.scaler)

    def _current_trunk(self):
        """The trunk as updated by the latest training, as a torch module."""
        if hasattr(self, "net_"):
            return self.net_.module_.trunk
        state = self._source_state
        return _load(_trunk, state.trunk, state.architecture["architecture"],
                     state.input, state.hidden_units)

    def _segment_proba(self, X, head, scaler):
        segments, clip_index, owned = self._prepare_X(X, reset=False)
        if scaler is not None:
            segments = standardize(segments, *scaler, inplace=owned)
        device = self._device()
        trunk = self._current_trunk().to(device).eval()
        head = head.to(device).eval()
        chunks = []
        with torch_threads(self.n_threads), torch.inference_mode():
            for start in range(0, len(segments), 4096):
                batch = torch.from_numpy(
                    np.ascontiguousarray(segments[start : start + 4096], dtype=np.float32)
                ).to(device)
                chunks.append(torch.softmax(head(trunk(batch)), 1).cpu().numpy())
        return np.concatenate(chunks), clip_index

    # -- input checks ---------------------------------------------------------
    def _image_input(self):
        if self.architecture == "cnn":  # every block halves H and W
            return 'architecture="cnn"', 'architecture="mlp"', 2 ** len(self.hidden_units)
        return None


def _seed(rng):
    return int(rng.randint(np.iinfo(np.int32).max))
