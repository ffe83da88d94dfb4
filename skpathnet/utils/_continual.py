"""Continual-learning scores of a task sequence: the accuracy matrix, BWT and FWT.

A model learns tasks ``0, 1, ..., T`` one after another (0-based: ``T`` is
the last index, ``T + 1`` tasks). After training task ``i`` it is scored on
the test split of every task ``j`` learnt so far; ``R[i, j]`` is that score
(Lopez-Paz and Ranzato 2017, "Gradient Episodic Memory for Continual
Learning", NeurIPS, Sec. 2). From ``R``:

- :func:`backward_transfer` (BWT): how training later tasks changed the
  earlier ones, ``mean over i < T of R[T, i] - R[i, i]`` (negative:
  forgetting);
- :func:`forward_transfer` (FWT): how the earlier tasks help a new one,
  ``mean over i >= 1 of R[i, i] - S[i]``, with ``S[i]`` task ``i`` learnt
  alone from scratch on the same split.

:func:`accuracy_matrix` fills ``R`` from the test labels and the
predictions after each task.
"""

import numpy as np

from ._metrics import war_score

__all__ = ["accuracy_matrix", "backward_transfer", "forward_transfer"]


def accuracy_matrix(y_true, y_pred, *, score=war_score):
    """The accuracy matrix ``R`` of a task sequence, from each task's test predictions.

    Parameters
    ----------
    y_true : sequence of n_tasks array-like
        ``y_true[j]``: the labels of task ``j``'s test split.
    y_pred : sequence of n_tasks sequences
        ``y_pred[i][j]``: the predictions on task ``j``'s test split after
        training tasks ``0..i`` (0-based), for every ``j <= i``. Row ``i``
        may stop after entry ``i`` or hold None beyond it: a task not yet
        trained has no output layer of its own in a model with one head per
        task, so ``R[i, j]`` for ``j > i`` is undefined (NaN). An entry
        given above the diagonal (e.g. a model with one shared head) is
        scored like the others.
    score : callable, default=war_score
        ``score(y_true, y_pred) -> float``; the default is the accuracy
        (weighted average recall, :func:`~skpathnet.metrics.war_score`).
        :func:`~skpathnet.metrics.uar_score` gives the matrix of UAR.

    Returns
    -------
    R : ndarray of shape (n_tasks, n_tasks), float64
        ``R[i, j] = score(y_true[j], y_pred[i][j])``; NaN where no
        prediction was given (above the diagonal).

    Raises
    ------
    ValueError
        If ``y_pred`` has another number of rows than ``y_true`` has tasks,
        a row has more entries than there are tasks, an entry on or below
        the diagonal is missing (None or not given), or predictions and
        labels differ in length (the message names the entry).

    Examples
    --------
    >>> y_true = [[0, 1, 1, 0], [2, 2, 3]]
    >>> y_pred = [[[0, 1, 1, 1]], [[0, 1, 0, 1], [2, 3, 3]]]
    >>> accuracy_matrix(y_true, y_pred).round(3).tolist()
    [[0.75, nan], [0.5, 0.667]]
    """
    n_tasks = len(y_true)
    if n_tasks == 0:
        raise ValueError("y_true holds no task; give the test labels of each task.")
    if len(y_pred) != n_tasks:
        raise ValueError(
            f"y_pred has {len(y_pred)} rows but y_true has {n_tasks} tasks: give one row of "
            "predictions after each task."
        )
    R = np.full((n_tasks, n_tasks), np.nan)
    for i, row in enumerate(y_pred):
        if len(row) > n_tasks:
            raise ValueError(f"y_pred[{i}] has {len(row)} entries for {n_tasks} tasks.")
        for j in range(n_tasks):
            pred = row[j] if j < len(row) else None
            if pred is None:
                if j <= i:
                    raise ValueError(
                        f"y_pred[{i}][{j}] is missing: after training task {i} every task "
                        f"0..{i} learnt so far needs its predictions."
                    )
                continue
            truth = np.asarray(y_true[j])
            pred = np.asarray(pred)
            if pred.shape != truth.shape:
                raise ValueError(
                    f"y_pred[{i}][{j}] has shape {pred.shape} but y_true[{j}] has shape "
                    f"{truth.shape}."
                )
            R[i, j] = float(score(truth, pred))
    return R


def _check_R(R, name="R"):
    """``R`` as a float64 square matrix of at least two tasks."""
    R = np.asarray(R, dtype=np.float64)
    if R.ndim != 2 or R.shape[0] != R.shape[1]:
        raise ValueError(
            f"{name} must be a square matrix (n_tasks, n_tasks): R[i, j] the score on task j "
            f"after training tasks 0..i; got shape {R.shape}."
        )
    if len(R) < 2:
        raise ValueError(
            f"{name} has {len(R)} task; backward and forward transfer need at least 2 tasks "
            "(a later task that can change or use an earlier one)."
        )
    return R


def _check_finite(values, where):
    bad = [w for v, w in zip(values, where) if not np.isfinite(v)]
    if bad:
        raise ValueError(
            f"{', '.join(bad)} {'is' if len(bad) == 1 else 'are'} not finite; every score "
            "the measure uses must be given (only entries above the diagonal may be NaN)."
        )


def backward_transfer(R):
    """Backward transfer (BWT): the mean change of earlier tasks' scores after the last task.

    ``BWT = 1 / T * sum over i < T of (R[T, i] - R[i, i])``, 0-based with
    ``T = n_tasks - 1`` the last task (Lopez-Paz and Ranzato 2017, Sec. 2,
    where tasks count from 1 and the sum runs to ``T - 1``). Negative
    values are forgetting: training the later tasks lowered the score of an
    earlier one below what it had just after its own training. A method
    that never changes what predicts an earlier task (PathNet's frozen
    pathways, each task with its own head) has ``BWT = 0`` exactly.

    Parameters
    ----------
    R : array-like of shape (n_tasks, n_tasks)
        The accuracy matrix (:func:`accuracy_matrix`): ``R[i, j]`` the score
        on task ``j``'s test split after training tasks ``0..i``. Only the
        diagonal and the last row are used; entries above the diagonal are
        ignored and may be NaN.

    Returns
    -------
    bwt : float
        In ``[-1, 1]`` for accuracies.

    Raises
    ------
    ValueError
        If ``R`` is not square, has fewer than 2 tasks, or a used entry
        (diagonal, last row) is not finite.

    References
    ----------
    .. [1] D. Lopez-Paz and M. Ranzato, "Gradient Episodic Memory for
       Continual Learning", NeurIPS, 2017, Sec. 2.

    Examples
    --------
    >>> R = [[0.8, float("nan"), float("nan")],
    ...      [0.7, 0.6, float("nan")],
    ...      [0.5, 0.6, 0.9]]
    >>> round(backward_transfer(R), 3)  # ((0.5 - 0.8) + (0.6 - 0.6)) / 2
    -0.15
    """
    R = _check_R(R)
    last = len(R) - 1
    _check_finite([R[last, i] for i in range(last)] + [R[i, i] for i in range(last)],
                  [f"R[{last}, {i}]" for i in range(last)] + [f"R[{i}, {i}]" for i in range(last)])
    return float(np.mean([R[last, i] - R[i, i] for i in range(last)]))


def forward_transfer(R, scratch):
    """Forward transfer (FWT): how much the earlier tasks help each new task, against scratch.

    ``FWT = 1 / T * sum over i >= 1 of (R[i, i] - S[i])``, 0-based
    (``i >= 2`` counting tasks from 1), ``T = n_tasks - 1``: each task's
    score just after learning it in the sequence minus its score when
    learnt alone, from scratch, on the same train and test split. Positive
    values: the earlier tasks help (transfer pays).

    Why not GEM's own FWT (Lopez-Paz and Ranzato 2017, Sec. 2): there it is
    ``R[i - 1, i] - b[i]``, the score on task ``i`` *before* training it
    minus that of a randomly initialised model, which measures zero-shot
    transfer of a model with one output layer shared by every task. Here
    each corpus has its own label set and gets a new output layer when it
    is learnt, so before its training the model has no trained head for it
    and ``R[i - 1, i]`` is chance by construction (undefined: NaN in
    :func:`accuracy_matrix`). What transfer can change is how well task
    ``i`` is learnt given the earlier ones, hence ``R[i, i]`` against the
    same model trained on task ``i`` alone, ``S[i]`` (the transfer-minus-
    scratch of transfer learning, averaged over the sequence). The first
    task has nothing before it (``R[0, 0]`` is a model trained from
    scratch), so ``S[0]`` is not used.

    Parameters
    ----------
    R : array-like of shape (n_tasks, n_tasks)
        The accuracy matrix (:func:`accuracy_matrix`). Only the diagonal
        from ``R[1, 1]`` on is used; entries above the diagonal are ignored
        and may be NaN.
    scratch : array-like of shape (n_tasks,)
        ``S[i]``: the score on task ``i``'s test split of the same model
        trained on task ``i``'s training split alone. ``S[0]`` is not used
        (it may be NaN).

    Returns
    -------
    fwt : float
        In ``[-1, 1]`` for accuracies.

    Raises
    ------
    ValueError
        If ``R`` is not square, has fewer than 2 tasks, ``scratch`` has
        another length, or a used entry is not finite.

    References
    ----------
    .. [1] D. Lopez-Paz and M. Ranzato, "Gradient Episodic Memory for
       Continual Learning", NeurIPS, 2017, Sec. 2.

    Examples
    --------
    >>> R = [[0.8, float("nan"), float("nan")],
    ...      [0.7, 0.6, float("nan")],
    ...      [0.5, 0.6, 0.9]]
    >>> round(forward_transfer(R, [0.8, 0.5, 0.85]), 3)  # ((0.6 - 0.5) + (0.9 - 0.85)) / 2
    0.075
    """
    R = _check_R(R)
    S = np.asarray(scratch, dtype=np.float64)
    if S.shape != (len(R),):
        raise ValueError(
            f"scratch must have one score per task, shape ({len(R)},); got shape {S.shape}."
        )
    n = len(R)
    _check_finite([R[i, i] for i in range(1, n)] + [S[i] for i in range(1, n)],
                  [f"R[{i}, {i}]" for i in range(1, n)] + [f"scratch[{i}]" for i in range(1, n)])
    return float(np.mean([R[i, i] - S[i] for i in range(1, n)]))

