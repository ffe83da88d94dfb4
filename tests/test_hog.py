"""Tests of FaceHOG: descriptor size, orientation content, normalisation, clips, errors."""

import re
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.utils.estimator_checks import parametrize_with_checks

from skpathnet import PathNetClassifier
from skpathnet.utils import make_clips
from skpathnet.experiments import front_end
from skpathnet.transformers import FaceCropper, FaceHOG, GroupStandardScaler
from conftest import DATA_FREE_CHECKS, run_data_free_check

N_BINS = 9
BLOCK = 2 * 2 * N_BINS  # values per block at the defaults: 2 x 2 cells of 9 bins


def _stripes(n, *, vertical, size=64, period=8, seed=0):
    """Grey crops (n, 3, size, size) of sine stripes plus a little noise.

    Vertical stripes vary along x (gradient at 0 degrees), horizontal ones
    along y (gradient at 90 degrees).
    """
    rng = np.random.default_rng(seed)
    axis = np.arange(size)
    wave = 0.5 + 0.4 * np.sin(2 * np.pi * axis / period)
    image = np.tile(wave, (size, 1)) if vertical else np.tile(wave[:, None], (1, size))
    crops = image[None, None] + 0.02 * rng.standard_normal((n, 1, size, size))
    return np.repeat(np.clip(crops, 0, 1), 3, axis=1).astype(np.float32)


def _orientation_histogram(features):
    """Sum of the descriptor's votes per orientation bin: ndarray of shape (9,)."""
    return features.reshape(-1, N_BINS).sum(axis=0)


@pytest.mark.parametrize(
    "size, cell_size, block_size, n_bins, n_features",
    [
        (64, 8, 2, 9, 1764),  # Dalal-Triggs settings on the paper's 64 x 64 crops
        (64, 4, 2, 9, 8100),  # 15 x 15 blocks
        (48, 8, 2, 9, 900),  # CK+48-sized crops: 5 x 5 blocks
        (64, 8, 1, 6, 384),  # 8 x 8 single-cell blocks of 6 bins
    ],
)
def test_descriptor_length(size, cell_size, block_size, n_bins, n_features):
    crops = np.random.default_rng(0).random((3, 3, size, size), dtype=np.float32)
    out = FaceHOG(cell_size=cell_size, block_size=block_size, n_bins=n_bins).transform(crops)
    assert out.shape == (3, n_features)
    assert out.dtype == np.float32


def test_orientation_bins_follow_the_edges():
    # 9 unsigned bins of 20 degrees: a gradient at 0 degrees votes into bins 0 and 8
    # (the bin centres are 10 and 170 degrees), at 90 degrees into bin 4 (80-100).
    vertical = _orientation_histogram(FaceHOG().transform(_stripes(1, vertical=True)))
    horizontal = _orientation_histogram(FaceHOG().transform(_stripes(1, vertical=False)))
    assert np.argmax(horizontal) == 4
    assert set(np.argsort(vertical)[-2:]) == {0, 8}
    assert vertical[4] < 0.05 * vertical.max()
    assert horizontal[0] + horizontal[8] < 0.05 * horizontal.max()


def test_blocks_are_l2_hys_normalised():
    crops = np.random.default_rng(1).random((2, 3, 64, 64), dtype=np.float32)
    blocks = FaceHOG().transform(crops).reshape(2, -1, BLOCK)
    # unit length up to the small epsilon OpenCV adds to each norm (0.1 per value)
    assert_allclose(np.linalg.norm(blocks, axis=2), 1.0, atol=5e-3)


def test_flat_crop_has_no_gradients():
    crops = np.full((1, 3, 64, 64), 0.5, dtype=np.float32)
    assert_array_equal(FaceHOG().transform(crops), 0.0)


def test_grey_crop_in_three_channels_equals_one_channel():
    crops = _stripes(2, vertical=True, seed=3)
    assert_array_equal(FaceHOG().transform(crops), FaceHOG().transform(crops[:, :1]))


def test_clips_give_clips_of_descriptors():
    frames = np.random.default_rng(2).random((5, 3, 64, 64), dtype=np.float32)
    clips = make_clips([frames[:2], frames[2:]])
    out = FaceHOG().transform(clips)
    assert out.dtype == object and len(out) == 2
    assert [clip.shape for clip in out] == [(2, 1764), (3, 1764)]
    assert_array_equal(np.concatenate(list(out)), FaceHOG().transform(frames))


def test_stateless_fit_and_clone():
    hog = FaceHOG(cell_size=4)
    assert hog.fit() is hog
    assert clone(hog).get_params() == {"cell_size": 4, "block_size": 2, "n_bins": 9}
    assert not [k for k in vars(hog) if k.endswith("_")]


@pytest.mark.parametrize("name", ["cell_size", "block_size", "n_bins"])
@pytest.mark.parametrize("value", [0, -2, 2.5, True, "8"])
def test_invalid_parameter_is_named(name, value):
    with pytest.raises(ValueError,
                       match=rf"{name} must be a positive integer; got {re.escape(repr(value))}"):
        FaceHOG(**{name: value}).fit()


@pytest.mark.parametrize(
    "crops, match",
    [
        (np.zeros((2, 64, 64), np.float32), r"shape \(2, 64, 64\)"),
        (np.zeros((2, 2, 64, 64), np.float32), r"shape \(2, 2, 64, 64\)"),
        (np.zeros((2, 3, 60, 64), np.float32), r"60 x 64 pixels .* cell_size=8"),
        (np.zeros((2, 3, 8, 8), np.float32), r"8 x 8 pixels .* block_size=2"),
    ],
)
def test_bad_shape_is_refused(crops, match):
    with pytest.raises(ValueError, match=match):
        FaceHOG().transform(crops)


@pytest.mark.parametrize("bad", [1.5, -0.1, np.nan])
def test_pixels_outside_unit_range_name_the_crop(bad):
    crops = np.zeros((3, 3, 64, 64), np.float32)
    crops[2, 1, 5, 5] = bad
    with pytest.raises(ValueError, match=r"Crop 2 of X has values outside \[0, 1\]"):
        FaceHOG().transform(crops)
    clips = make_clips([crops[:1], crops])
    with pytest.raises(ValueError, match=r"Crop 2 of clip 1"):
        FaceHOG().transform(clips)


def test_feature_names_need_the_length():
    assert list(FaceHOG().get_feature_names_out(range(3))) == ["hog0", "hog1", "hog2"]
    with pytest.raises(ValueError, match="input_features"):
        FaceHOG().get_feature_names_out()


def test_pipeline_with_subject_normalisation_and_pathnet():
    # two "expressions" (stripe directions) posed by four subjects whose crops differ
    # in brightness; HOG + per-subject standardisation + PathNet separates them
    crops = np.concatenate([_stripes(20, vertical=True, seed=4),
                            _stripes(20, vertical=False, seed=5)])
    crops = np.clip(crops * np.repeat([0.6, 0.8, 1.0, 1.2], 10)[:, None, None, None], 0, 1)
    y = np.repeat([0, 1], 20)
    groups = np.tile(np.repeat([0, 1, 2, 3], 5), 2)
    X = FaceHOG().transform(crops)
    X = GroupStandardScaler().fit(X, y, groups=groups).transform(X, groups=groups)
    model = make_pipeline(FaceHOG(), PathNetClassifier(
        n_generations=3, population_size=2, n_modules=4, n_active=2, n_units=8,
        learning_rate=0.2, random_state=0, n_threads=1))
    assert model.fit(crops, y).score(crops, y) == 1.0
    assert PathNetClassifier(n_generations=3, population_size=2, n_modules=4, n_active=2,
                             n_units=8, learning_rate=0.2, random_state=0,
                             n_threads=1).fit(X, y).score(X, y) == 1.0


def test_front_end_hog_is_cropper_then_hog():
    hog_front = front_end("jaffe", features="hog")
    assert isinstance(hog_front, Pipeline)
    assert [type(step) for _, step in hog_front.steps] == [FaceCropper, FaceHOG]
    assert isinstance(front_end("jaffe", features="crops"), FaceCropper)


with warnings.catch_warnings():
    # The checks generator warns that it cannot feed 2-D arrays to FaceHOG.
    warnings.simplefilter("ignore")

    @parametrize_with_checks([FaceHOG()])
    def test_sklearn_checks(estimator, check):
        check(estimator)


@pytest.mark.parametrize("check", DATA_FREE_CHECKS)
def test_api_checks(check):
    run_data_free_check(check, FaceHOG())


def test_init_is_keyword_only():
    with pytest.raises(TypeError):
        FaceHOG(8)
