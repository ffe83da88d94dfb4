"""skpathnet.metrics: accuracy matrix, backward and forward transfer of a task sequence."""

import doctest

import numpy as np
import pytest

from skpathnet.utils import _continual
from skpathnet.metrics import (
    accuracy_matrix, backward_transfer, forward_transfer, uar_score,
)

NAN = float("nan")

# Three tasks; above the diagonal undefined (a new head per task).
R3 = np.array([[0.80, NAN, NAN],
               [0.70, 0.60, NAN],
               [0.50, 0.65, 0.90]])


def test_docstring_examples():
    assert doctest.testmod(_continual).failed == 0


def test_backward_transfer_by_hand():
    # ((0.50 - 0.80) + (0.65 - 0.60)) / 2 = (-0.30 + 0.05) / 2
    assert backward_transfer(R3) == pytest.approx(-0.125, abs=1e-15)
    # two tasks: the one difference R[1, 0] - R[0, 0]
    assert backward_transfer([[0.5, NAN], [0.75, 0.25]]) == 0.25
    # nothing forgotten: exactly 0, not merely close
    R = np.array([[0.625, NAN, NAN], [0.625, 0.5, NAN], [0.625, 0.5, 0.75]])
    assert backward_transfer(R) == 0.0
    # only the diagonal and the last row count: R[1, 0] is ignored
    assert backward_transfer(np.where(np.isnan(R3), 0.3, R3)) == backward_transfer(R3)
    other = R3.copy()
    other[1, 0] = 0.0
    assert backward_transfer(other) == backward_transfer(R3)


def test_forward_transfer_by_hand():
    S = [0.80, 0.50, 0.85]
    # ((0.60 - 0.50) + (0.90 - 0.85)) / 2 = 0.075; S[0] unused
    assert forward_transfer(R3, S) == pytest.approx(0.075, abs=1e-15)
    assert forward_transfer(R3, [NAN, 0.50, 0.85]) == forward_transfer(R3, S)
    assert forward_transfer(R3, [0.0, 0.50, 0.85]) == forward_transfer(R3, S)
    assert forward_transfer([[0.5, NAN], [0.1, 0.75]], [0.5, 0.5]) == 0.25
    # off-diagonal entries do not enter
    assert forward_transfer(np.where(np.isnan(R3), 0.0, R3), S) == forward_transfer(R3, S)
    assert forward_transfer(R3, np.diag(R3)) == 0.0


def test_accuracy_matrix_by_hand():
    y_true = [np.array(["a", "b", "b", "a"]), np.array([1, 1, 2, 2, 2])]
    y_pred = [
        [np.array(["a", "b", "b", "b"])],                    # after task 0: 3/4
        [np.array(["a", "a", "b", "b"]), np.array([1, 2, 2, 2, 2])],  # 2/4, 4/5
    ]
    R = accuracy_matrix(y_true, y_pred)
    assert R.dtype == np.float64 and R.shape == (2, 2)
    np.testing.assert_array_equal(R, [[0.75, NAN], [0.5, 0.8]])
    # None above the diagonal is the same as leaving the row short
    np.testing.assert_array_equal(
        accuracy_matrix(y_true, [[y_pred[0][0], None], y_pred[1]]), R)
    # an entry above the diagonal (a shared head) is scored
    R_up = accuracy_matrix(y_true, [[y_pred[0][0], np.array([1, 1, 1, 1, 1])], y_pred[1]])
    assert R_up[0, 1] == 0.4
    # another score: UAR of task 1 after task 1 = (1/2 + 3/3) / 2
    assert accuracy_matrix(y_true, y_pred, score=uar_score)[1, 1] == 0.75
    assert backward_transfer(R) == -0.25


@pytest.mark.parametrize("R, match", [
    (np.zeros((2, 3)), "square"),
    (np.zeros(3), "square"),
    (np.zeros((2, 2, 2)), "square"),
    (np.zeros((1, 1)), "at least 2 tasks"),
    (np.zeros((0, 0)), "at least 2 tasks"),
])
def test_shapes_refused(R, match):
    with pytest.raises(ValueError, match=match):
        backward_transfer(R)
    with pytest.raises(ValueError, match=match):
        forward_transfer(R, np.zeros(len(R)))


def test_nan_where_used_is_refused():
    R = R3.copy()
    R[2, 1] = NAN
    with pytest.raises(ValueError, match=r"R\[2, 1\] is not finite"):
        backward_transfer(R)
    assert forward_transfer(R, [0, 0.5, 0.85]) == pytest.approx(0.075)  # R[2, 1] unused
    R = R3.copy()
    R[1, 1] = NAN
    with pytest.raises(ValueError, match=r"R\[1, 1\]"):
        backward_transfer(R)
    with pytest.raises(ValueError, match=r"R\[1, 1\]"):
        forward_transfer(R, [0, 0.5, 0.85])
    R = R3.copy()
    R[0, 0] = np.inf
    with pytest.raises(ValueError, match=r"R\[0, 0\]"):
        backward_transfer(R)
    assert forward_transfer(R, [0, 0.5, 0.85]) == pytest.approx(0.075)  # R[0, 0] unused
    with pytest.raises(ValueError, match=r"scratch\[2\] is not finite"):
        forward_transfer(R3, [0.8, 0.5, NAN])


def test_scratch_length_refused():
    with pytest.raises(ValueError, match=r"one score per task, shape \(3,\)"):
        forward_transfer(R3, [0.5, 0.5])
    with pytest.raises(ValueError, match="one score per task"):
        forward_transfer(R3, np.zeros((3, 1)))


def test_accuracy_matrix_errors():
    y_true = [[0, 1], [1, 0]]
    with pytest.raises(ValueError, match="no task"):
        accuracy_matrix([], [])
    with pytest.raises(ValueError, match="1 rows but y_true has 2 tasks"):
        accuracy_matrix(y_true, [[[0, 1]]])
    with pytest.raises(ValueError, match=r"y_pred\[1\]\[1\] is missing"):
        accuracy_matrix(y_true, [[[0, 1]], [[0, 1]]])
    with pytest.raises(ValueError, match=r"y_pred\[1\]\[0\] is missing"):
        accuracy_matrix(y_true, [[[0, 1]], [None, [1, 0]]])
    with pytest.raises(ValueError, match=r"y_pred\[0\] has 3 entries for 2 tasks"):
        accuracy_matrix(y_true, [[[0, 1], None, None], [[0, 1], [1, 0]]])
    with pytest.raises(ValueError, match=r"y_pred\[1\]\[0\] has shape \(3,\)"):
        accuracy_matrix(y_true, [[[0, 1]], [[0, 1, 1], [1, 0]]])
