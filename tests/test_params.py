"""One declarative table of parameter rules per estimator, applied by one helper."""

import numpy as np
import pytest

from skpathnet import MultiTaskPathNetClassifier, PathNetClassifier
from skpathnet.baselines import FineTuneClassifier, SegmentLinearClassifier
from skpathnet.transformers import FaceCropper, FaceHOG, GroupStandardScaler
from skpathnet.utils._params import (
    AnyOf, Boolean, Integer, IntegerTuple, InvalidParameterError, Options, Real, validate_params,
)

ESTIMATORS = [PathNetClassifier, MultiTaskPathNetClassifier, FineTuneClassifier]
TRANSFORMERS = [FaceCropper, FaceHOG, GroupStandardScaler]
OTHERS = [SegmentLinearClassifier]  # plain scikit-learn estimators
# parameters with checks of their own: the device (torch), random_state (check_random_state),
# n_jobs and memory (joblib); verbose and missing_label take any value
UNCHECKED = {"device", "random_state", "verbose", "missing_label", "n_jobs", "memory"}


@pytest.mark.parametrize("cls", ESTIMATORS + TRANSFORMERS + OTHERS)
def test_every_parameter_has_a_rule_and_the_defaults_pass(cls):
    est = cls()
    assert set(est.get_params()) - UNCHECKED == set(cls._parameter_constraints)
    validate_params(est, cls._parameter_constraints)
    if cls in ESTIMATORS:
        est._check_params()


@pytest.mark.parametrize("cls, name, value, match", [
    # the disagreements of issue 29: a bool is no count, every parameter is checked
    (PathNetClassifier, "n_layers", True, "n_layers must be a positive integer; got True"),
    (PathNetClassifier, "weight_decay", True, "weight_decay must be a non-negative finite"),
    (PathNetClassifier, "mutation_rate", "0.1", r"mutation_rate must be None or a float in "
                                                r"\[0, 1\]; got '0.1'"),
    (PathNetClassifier, "n_threads", 0, "n_threads must be None or a positive integer; got 0"),
    (PathNetClassifier, "n_threads", "2", "n_threads must be None or a positive integer"),
    (PathNetClassifier, "standardize", "yes", "standardize must be True or False; got 'yes'"),
    (PathNetClassifier, "learning_rate", float("inf"), "learning_rate must be a positive"),
    (PathNetClassifier, "population_size", 1, r"an integer >= 2 \(a binary tournament"),
    (PathNetClassifier, "n_channels", 0, "n_channels must be a positive integer"),
    (MultiTaskPathNetClassifier, "n_units", 2.0, "n_units must be a positive integer"),
    (MultiTaskPathNetClassifier, "au_weight", np.nan, "au_weight must be a non-negative"),
    (MultiTaskPathNetClassifier, "momentum", 1.0, r"momentum must be a float in \[0, 1\)"),
    (PathNetClassifier, "frozen_weight", 1.5, r"frozen_weight must be a float in \(0, 1\]"),
    (MultiTaskPathNetClassifier, "frozen_weight", 0, r"frozen_weight must be a float in \(0, 1\]"),
    (PathNetClassifier, "frozen_learning_rate", -0.1,
     "frozen_learning_rate must be a non-negative finite float"),
    (FineTuneClassifier, "max_epochs", True, "max_epochs must be a non-negative integer"),
    (FineTuneClassifier, "hidden_units", (8, True), "hidden_units must be a non-empty tuple"),
    (FineTuneClassifier, "standardize", 1, "standardize must be True or False; got 1"),
    (FineTuneClassifier, "n_threads", -1, "n_threads must be None or a positive integer"),
    (SegmentLinearClassifier, "alpha", -1.0, "alpha must be a positive finite float"),
    (GroupStandardScaler, "min_class_coverage", True, r"must be a float in \[0, 1\]; got True"),
])
def test_a_bad_value_is_named_and_is_a_value_and_a_type_error(cls, name, value, match):
    est = cls(**{name: value})
    for error in (ValueError, TypeError, InvalidParameterError):
        with pytest.raises(error, match=match):
            validate_params(est, cls._parameter_constraints)


@pytest.mark.parametrize("rule, good, bad", [
    (Integer(1), [1, np.int64(3)], [0, 1.0, True, None, "1"]),
    (Integer(0, none=True), [None, 0], [-1, False]),
    (Real(0, low_open=True), [0.5, 2, np.float32(1)], [0, -1.0, np.inf, np.nan, True, "1"]),
    (Real(0, 1, high_open=True), [0, 0.99], [1, 1.5]),
    (Options(("a", True)), ["a", True], ["b", 1, None]),
    (Boolean(), [True, np.bool_(False)], [0, 1, "True", None]),
    (IntegerTuple(1), [(1,), [2, 3]], [(), (0,), (1.0,), 3, (True,)]),
    (AnyOf((Integer(1), IntegerTuple(1, length=2))), [3, (3, 4)], [(3,), 0, (3, 0)]),
])
def test_rules(rule, good, bad):
    assert all(rule.accepts(v) for v in good)
    assert not any(rule.accepts(v) for v in bad)


def test_subclass_tables_extend_their_parents():
    parent = PathNetClassifier._parameter_constraints
    child = MultiTaskPathNetClassifier._parameter_constraints
    assert {k: child[k] for k in parent} == parent and set(child) - set(parent) == {"au_weight"}
