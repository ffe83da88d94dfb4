"""scikit-learn's common estimator checks on every skpathnet estimator."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skpathnet import PathNetClassifier

# Fast settings: the checks fit dozens of times on tiny data.
FAST = dict(n_generations=4, population_size=2, n_modules=4, n_active=2, n_units=8,
            learning_rate=0.2, random_state=0)

EXPECTED_FAILURES = {}


def _expected_failures(estimator):
    return EXPECTED_FAILURES.get(type(estimator).__name__, {})


@parametrize_with_checks(
    [PathNetClassifier(**FAST)],
    expected_failed_checks=_expected_failures,
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
