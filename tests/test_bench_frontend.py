"""benchmarks/bench_frontend.py: the search's subsets by feature name (issue 30, round 4)."""

import numpy as np
import pytest
from sklearn.feature_selection import SelectKBest
from sklearn.svm import SVC

from conftest import load_benchmark
from skpathnet.transformers import AcousticFunctionals


@pytest.fixture(scope="module")
def bench():
    return load_benchmark("bench_frontend")


@pytest.fixture(scope="module")
def names():
    return AcousticFunctionals().get_feature_names_out()


def _kept(bench, names, variant):
    spec = bench.VARIANTS[variant]
    return names[bench.subset_mask(names, keep=spec.get("keep"), drop=spec.get("drop"))]


@pytest.mark.parametrize("variant, n", [
    ("default", 3020), ("no-shape", 2414), ("no-mel", 1100), ("no-mel-lld", 1868),
    ("no-mel-deltas", 2252), ("mel-every2", 2060), ("mel-every4", 1580),
    ("mel-every8", 1340), ("no-deltas-cols", 1820), ("mfcc-prosody", 650), ("prosody", 80),
])
def test_subsets_count_the_features_of_their_groups(bench, names, variant, n):
    # 64 mel bands: 18 functionals of the LLD and 12 of its delta each
    assert len(_kept(bench, names, variant)) == n


def test_every_kth_mel_band_keeps_whole_bands(bench, names):
    kept = _kept(bench, names, "mel-every4")
    bands = sorted({int(name.split("_")[0][6:]) for name in kept if name.startswith("logmel")})
    assert bands == list(range(0, 64, 4))
    assert sum(name.startswith("logmel8_") for name in kept) == 30
    # the other descriptors are untouched
    assert {n for n in names if not n.startswith("logmel")} <= set(kept)


def test_keep_and_drop_match_whole_names(bench):
    names = np.array(["mfcc1_mean", "mfcc10_mean", "mfcc1_delta_mean", "log_duration"])
    assert bench.subset_mask(names, keep=r"mfcc1_.*").tolist() == [True, False, True, False]
    assert bench.subset_mask(names, keep=r"mfcc\d+_.*", drop=r".*_delta_.*").tolist() == [
        True, True, False, False]
    assert bench.subset_mask(names).all()


def test_selection_is_inside_the_svm_pipeline(bench):
    steps = [type(step) for _, step in bench.svm_pipeline(1e-3, kbest=300).steps]
    assert steps[1] is SelectKBest and steps[-1] is SVC
    assert len(bench.svm_pipeline(1e-3).steps) == 2
    # a subset or a selection is the default's extraction (the same cache entries)
    for variant in ("no-mel", "mel-every2", "kbest300", "no-mel-kbest300", "pca200"):
        assert bench.front_end(variant, n_jobs=1, memory=None).get_params() == (
            AcousticFunctionals(n_jobs=1).get_params())


@pytest.mark.parametrize("variant, added", [
    ("r5-all", 30 + 6 + 162), ("r5-loudness", 30), ("r5-temporal", 6),
    ("r5-formants", 162), ("r5-temporal-loudness", 36),
])
def test_round5_subsets_keep_the_default_and_their_option(bench, variant, added):
    # issue 30, round 5: every variant is a subset of one extraction with all three options
    full = bench.front_end("r5-all", n_jobs=1, memory=None).get_feature_names_out()
    kept = _kept(bench, full, variant)
    assert len(kept) == 3020 + added and kept[:3020].tolist() == full[:3020].tolist()
    own = {"r5-loudness": ["loudness"], "r5-temporal": ["temporal"],
           "r5-formants": ["formants"], "r5-temporal-loudness": ["loudness", "temporal"],
           "r5-all": ["loudness", "temporal", "formants"]}[variant]
    alone = AcousticFunctionals(**dict.fromkeys(own, True)).get_feature_names_out()
    assert kept.tolist() == alone.tolist()
