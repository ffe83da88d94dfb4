"""An optional probe of the training loop: where the time of the SGD steps goes.

Profiling needs the phases of a step (the mini-batch, layer 1's forward
product, the rest of the forward pass, layer 1's update...) timed on the
engine's own code, not on a copy of it that can drift. The step loop
(:func:`~._sgd.train_pathways`, :func:`~._sgd.run_steps`,
:func:`~._multitask.train_multitask`) and the steps call :func:`mark` at the
end of each phase; inside :func:`step_probe`, that calls the probe with the
phase's name, and elsewhere it does nothing but read one context variable.
Nothing else changes: the same operations run in the same order, with the
same results.
"""

from contextlib import contextmanager
from contextvars import ContextVar

__all__ = ["PHASES", "mark", "step_probe"]

#: The phases that :func:`mark` reports, in the order of a training call (see
#: :func:`step_probe`).
PHASES = ("gather", "batch", "layer1_forward", "forward", "backward", "layer1_update", "scatter")

_probe = ContextVar("skpathnet_step_probe", default=None)


@contextmanager
def step_probe(probe):
    """Call ``probe(phase)`` at the end of each phase of the engine's training in the block.

    Parameters
    ----------
    probe : callable
        ``probe(phase)`` with ``phase`` a str (see Notes); called in the
        training thread right after the phase's last operation. Typically a
        lap timer: the time since its previous call belongs to ``phase``
        (on a GPU, synchronise in the probe to time the kernels rather than
        their launch).

    Yields
    ------
    probe : callable
        The same probe.

    Notes
    -----
    Each phase is reported where it ends, in this order:

    - ``"gather"``: the pathways' parameters gathered (once per training
      call of :func:`~skpathnet.engine.train_pathways` or
      :func:`~skpathnet.engine.train_multitask`);
    - per step, ``"batch"``: the next mini-batch (shuffle, rows, targets,
      augmentation), then ``"layer1_forward"``: layer 1's pre-activations
      (the ``addmm`` of linear modules; once per chunk of a chunked conv
      layer), then ``"forward"``: the rest of the forward pass and the loss
      (linear steps: the gradient of the logits), then ``"backward"``. Linear
      steps also report ``"backward"`` just before layer 1's weight update
      and ``"layer1_update"`` right after it (the fused ``addmm_``), so that
      ``"backward"`` adds up the rest of the backward pass and the updates;
    - ``"scatter"``: the parameters written back and the fitness read (once
      per training call).

    Examples
    --------
    >>> import collections
    >>> from skpathnet.engine._probe import mark
    >>> seen = collections.Counter()
    >>> with step_probe(lambda phase: seen.update([phase])):
    ...     mark("batch")
    >>> mark("batch")  # outside the block: nothing is called
    >>> seen["batch"]
    1
    """
    token = _probe.set(probe)
    try:
        yield probe
    finally:
        _probe.reset(token)


def mark(phase):
    """The end of ``phase``: tell the probe of :func:`step_probe`, if there is one."""
    probe = _probe.get()
    if probe is not None:
        probe(phase)
