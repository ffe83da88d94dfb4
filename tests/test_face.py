"""Tests of FaceCropper: inputs, tracking rules, errors, parallelism and caching."""

import os
import pickle
import re
import warnings

import cv2
import joblib
import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, GroupKFold, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils.estimator_checks import parametrize_with_checks

from skpathnet.transformers import FaceCropper
from skpathnet.transformers._face import CASCADE_FILE
from conftest import DATA_FREE_CHECKS, run_data_free_check

# The shared clips' face is >= 180 px; (100, 100) drops the cascade's ~65 px
# false detections in their face-less halves.
BIG = (100, 100)


def _write_video(path, frames, fps=10):
    """Write RGB uint8 frames to an MJPG AVI (decodable by every OpenCV build)."""
    height, width = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (width, height))
    assert writer.isOpened()
    for frame in frames:
        writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    writer.release()
    return str(path)


def _expected_crop(rgb, box, size=64):
    x, y, w, h = box
    face = cv2.resize(rgb[y : y + h, x : x + w], (size, size), interpolation=cv2.INTER_AREA)
    return (face.transpose(2, 0, 1) / 255).astype(np.float32)


def _first_frame(path):
    capture = cv2.VideoCapture(path)
    ok, frame = capture.read()
    capture.release()
    assert ok
    return cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)


def _assert_tracking_rule(boxes, n_faces):
    """Frames without exactly one face reuse the previous single detection's
    box, or the first one's for frames before it."""
    single = np.flatnonzero(n_faces == 1)
    assert len(single) > 0
    for i in range(len(n_faces)):
        before = single[single <= i]
        source = before[-1] if len(before) else single[0]
        assert_array_equal(boxes[i], boxes[source], err_msg=f"frame {i}")


@pytest.fixture
def video_dir(data_home):
    return data_home / "video"


# ------------------------------------------------------------- sklearn API

with warnings.catch_warnings():
    # The checks generator warns that it cannot feed 2-D arrays to FaceCropper.
    warnings.simplefilter("ignore")

    # Its input tags say X is paths / images, not a 2-D feature matrix
    # (two_d_array=False), so sklearn only runs check_estimator_cloneable here;
    # the data-free API checks are run explicitly below.
    @parametrize_with_checks([FaceCropper()])
    def test_sklearn_checks(estimator, check):
        check(estimator)


@pytest.mark.parametrize("check", DATA_FREE_CHECKS)
def test_api_checks(check):
    run_data_free_check(check, FaceCropper())


def test_tags():
    tags = FaceCropper().__sklearn_tags__()
    assert tags.requires_fit is False
    assert tags.input_tags.two_d_array is False
    assert tags.input_tags.string is True


def test_init_is_keyword_only():
    with pytest.raises(TypeError):
        FaceCropper(2)


# ------------------------------------------------------ synthetic images


def test_array_output_convention():
    red = np.zeros((50, 70, 3), np.uint8)
    red[..., 0] = 255
    gray = np.full((40, 40), 128, np.uint8)
    clips = FaceCropper(no_face="full_frame").fit_transform([red, gray])
    assert clips.dtype == object and clips.shape == (2,)
    for crops in clips:
        assert crops.shape == (1, 3, 64, 64) and crops.dtype == np.float32
    assert_array_equal(clips[0][0, 0], 1.0)  # channel 0 is R
    assert_array_equal(clips[0][0, 1:], 0.0)
    assert_array_equal(clips[1][0], np.float32(128 / 255))  # gray -> 3 channels


def test_array_dtypes_and_batch():
    image = np.random.default_rng(0).integers(0, 256, (30, 30, 3), dtype=np.uint8)
    cropper = FaceCropper(no_face="full_frame", size=16)
    from_uint8 = cropper.transform([image])[0]
    from_float = cropper.transform([image / 255.0])[0]
    from_batch = cropper.transform(np.stack([image, image]))
    assert from_uint8.shape == (1, 3, 16, 16)
    assert_array_equal(from_uint8, from_float)
    assert_array_equal(from_batch[1], from_uint8)
    gray_batch = cropper.transform(np.zeros((3, 20, 20), np.uint8))
    assert [c.shape for c in gray_batch] == [(1, 3, 16, 16)] * 3


def test_no_face_rules_on_image():
    blank = np.zeros((60, 80), np.uint8)
    with pytest.raises(ValueError, match=r"No face .*image array of shape \(60, 80\)"):
        FaceCropper().transform([blank])
    boxes, n_faces = FaceCropper(no_face="full_frame").detect_boxes(blank)
    assert_array_equal(boxes, [[0, 0, 80, 60]])
    assert_array_equal(n_faces, [0])
    assert boxes.dtype == n_faces.dtype == np.int64


def test_frame_step_and_max_frames(tmp_path):
    levels = [10 * i for i in range(10)]
    frames = [np.full((48, 64, 3), level, np.uint8) for level in levels]
    path = _write_video(tmp_path / "ramp.avi", frames)
    expected = {
        (1, None): [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
        (3, None): [0, 3, 6, 9],  # frames 0, k, 2k, ...
        (1, 4): [0, 1, 2, 3],  # the first max_frames frames
        (3, 2): [0, 3],  # max_frames counts kept frames
        (20, None): [0],
    }
    for (step, cap), kept in expected.items():
        cropper = FaceCropper(frame_step=step, max_frames=cap, no_face="full_frame")
        crops = cropper.transform([path])[0]
        assert crops.shape == (len(kept), 3, 64, 64)
        means = crops.mean(axis=(1, 2, 3)) * 255
        assert np.allclose(means, [levels[i] for i in kept], atol=3), (step, cap)


def test_image_file_channel_order(tmp_path):
    rgb = np.zeros((40, 40, 3), np.uint8)
    rgb[..., 2] = 200  # blue
    path = tmp_path / "blue.png"
    cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    crops = FaceCropper(no_face="full_frame").transform([path])[0]  # path-like
    assert_array_equal(crops[0, 2], np.float32(200 / 255))
    assert_array_equal(crops[0, :2], 0.0)


def test_pipeline_cross_validate_grid_search():
    rng = np.random.default_rng(0)
    X = [rng.integers(0, 256, (24, 24), dtype=np.uint8) for _ in range(12)]
    y = np.array([0, 1] * 6)
    groups = np.repeat(np.arange(4), 3)
    pipe = make_pipeline(
        FaceCropper(no_face="full_frame", size=8),
        FunctionTransformer(_clip_means),
        LogisticRegression(),
    )
    scores = cross_validate(pipe, X, y, groups=groups, cv=GroupKFold(n_splits=2))
    assert scores["test_score"].shape == (2,)
    search = GridSearchCV(pipe, {"facecropper__size": [4, 8]}, cv=GroupKFold(n_splits=2))
    search.fit(X, y, groups=groups)
    assert search.best_params_["facecropper__size"] in (4, 8)


def _clip_means(clips):
    return np.stack([crops.mean(axis=0).ravel() for crops in clips])


def test_pickle_and_clone():
    cropper = FaceCropper(frame_step=2, no_face="full_frame")
    blank = np.zeros((32, 32), np.uint8)
    before = cropper.transform([blank])[0]  # loads the cascade
    restored = pickle.loads(pickle.dumps(cropper))
    assert_array_equal(restored.transform([blank])[0], before)
    assert clone(cropper).get_params() == cropper.get_params()
    assert vars(cropper).keys() == cropper.get_params().keys()


def test_cascade_file_ships_with_opencv():
    assert os.path.isfile(os.path.join(cv2.data.haarcascades, CASCADE_FILE))


# ------------------------------------------------------------------ errors


@pytest.mark.parametrize(
    "param, value",
    [
        ("frame_step", 0),
        ("frame_step", 1.5),
        ("max_frames", 0),
        ("scale_factor", 1.0),
        ("scale_factor", "1.1"),
        ("min_neighbors", -1),
        ("min_size", (30,)),
        ("min_size", (0, 30)),
        ("size", 0),
        ("no_face", "skip"),
    ],
)
def test_bad_params(param, value):
    cropper = FaceCropper(**{param: value})
    blank = [np.zeros((8, 8), np.uint8)]
    with pytest.raises(ValueError, match=f"{param}.*{re.escape(repr(value))}"):
        cropper.fit(blank)
    with pytest.raises(ValueError, match=param):
        cropper.transform(blank)


def test_int_min_size_is_square():
    blank = np.zeros((8, 8), np.uint8)
    cropper = FaceCropper(min_size=40, no_face="full_frame")
    assert cropper.transform([blank])[0].shape == (1, 3, 64, 64)


@pytest.mark.parametrize(
    "X, error, match",
    [
        ("video.mp4", TypeError, "wrap it in a list"),
        (np.zeros((10, 10), np.uint8), ValueError, r"shape \(10, 10\)"),
        ([], ValueError, "empty"),
        ([3], TypeError, r"X\[0\]"),
        ([np.zeros((10, 10), np.int16)], ValueError, "int16"),
        ([np.full((10, 10), 2.0)], ValueError, r"\[0, 1\]"),
        ([np.zeros((10, 10, 4), np.uint8)], ValueError, r"\(10, 10, 4\)"),
    ],
)
def test_bad_inputs(X, error, match):
    with pytest.raises(error, match=match):
        FaceCropper(no_face="full_frame").transform(X)


def test_missing_file(tmp_path):
    path = str(tmp_path / "nowhere.mp4")
    with pytest.raises(FileNotFoundError, match="nowhere.mp4"):
        FaceCropper().transform([path])


@pytest.mark.parametrize(
    "name, content",
    [
        ("broken.mp4", b"not a video at all"),
        ("notes.png", b"plain text"),
        ("truncated.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 20),
    ],
)
def test_unreadable_file(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ValueError, match=name):
        FaceCropper().transform([str(path)])


def test_empty_video(tmp_path):
    path = tmp_path / "empty.avi"
    cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (32, 32)).release()
    with pytest.raises(ValueError, match=r"No frame could be decoded .*empty\.avi"):
        FaceCropper(no_face="full_frame").transform([str(path)])


# ------------------------------------------------------------------ caching


def test_memory_cache(tmp_path):
    path = tmp_path / "image.png"
    red = np.zeros((20, 20, 3), np.uint8)
    red[..., 2] = 255  # BGR red
    cv2.imwrite(str(path), red)
    plain = FaceCropper(no_face="full_frame").transform([str(path)])
    cache = tmp_path / "cache"
    for memory in (str(cache), joblib.Memory(cache, verbose=0)):
        cached = FaceCropper(no_face="full_frame", memory=memory)
        for _ in range(2):  # computed, then read back
            out = cached.transform([str(path)])
            assert_array_equal(out[0], plain[0])
    assert any(cache.rglob("output.pkl"))
    # A changed file is processed again, not read from the stale cache.
    cv2.imwrite(str(path), red[..., ::-1].copy())  # now blue
    os.utime(path, ns=(1, 1))
    out = FaceCropper(no_face="full_frame", memory=str(cache)).transform([str(path)])
    assert out[0][0, 2].min() == 1.0 and out[0][0, 0].max() == 0.0


# -------------------------------------------------------------- real faces


@pytest.mark.data
def test_single_face_video(video_dir, tmp_path):
    path = str(video_dir / "single_face.mp4")  # 72 frames, 640x360
    # Every 2nd frame keeps the test short; memory lets transform reuse
    # detect_boxes' work.
    cropper = FaceCropper(frame_step=2, memory=str(tmp_path))
    boxes, n_faces = cropper.detect_boxes(path)
    assert boxes.shape == (36, 4) and n_faces.shape == (36,)
    assert_array_equal(n_faces, 1)
    assert np.all(boxes[:, 2:] < [640, 360])  # not the whole frame
    assert np.all(boxes[:, 2:] > 100)
    crops = cropper.transform([path])[0]
    assert crops.shape == (36, 3, 64, 64) and crops.dtype == np.float32
    assert 0.0 <= crops.min() and crops.max() <= 1.0
    np.testing.assert_allclose(crops[0], _expected_crop(_first_frame(path), boxes[0]), atol=1e-6)
    full = FaceCropper(frame_step=2, no_face="full_frame", min_size=1000).transform([path])[0]
    assert np.abs(crops - full).mean() > 0.05
    # frame_step / max_frames keep frames 0, k, 2k, ... (boxes agree).
    step_boxes, _ = FaceCropper(frame_step=10).detect_boxes(path)
    assert_array_equal(step_boxes, boxes[::5])
    assert FaceCropper(frame_step=10, max_frames=3).transform([path])[0].shape[0] == 3
    assert FaceCropper(max_frames=4).transform([path])[0].shape[0] == 4


@pytest.mark.data
def test_single_face_image_crop_is_the_box(video_dir):
    path = str(video_dir / "single_face.jpg")
    boxes, n_faces = FaceCropper().detect_boxes(path)
    assert_array_equal(n_faces, [1])
    rgb = cv2.cvtColor(cv2.imread(path), cv2.COLOR_BGR2RGB)
    crops = FaceCropper().transform([path])[0]
    np.testing.assert_allclose(crops[0], _expected_crop(rgb, boxes[0]), atol=1e-6)
    # The same image as an RGB array gives the same crop.
    assert_array_equal(FaceCropper().transform([rgb])[0], crops)


@pytest.mark.data
def test_face_then_no_face_reuses_previous_box(video_dir):
    path = str(video_dir / "face_noface.mov")  # 169 frames
    boxes, n_faces = FaceCropper(min_size=BIG, frame_step=2).detect_boxes(path)
    assert len(n_faces) == 85
    assert n_faces[0] == 1 and n_faces[-1] == 0
    last = np.flatnonzero(n_faces == 1)[-1]
    assert np.all(n_faces[last + 1 :] == 0) and last < 75
    assert_array_equal(boxes[last + 1 :], np.broadcast_to(boxes[last], boxes[last + 1 :].shape))
    _assert_tracking_rule(boxes, n_faces)


@pytest.mark.data
def test_no_face_then_face_uses_first_box_backwards(video_dir, tmp_path):
    path = str(video_dir / "noface_face.mov")
    cropper = FaceCropper(min_size=BIG, frame_step=2, memory=str(tmp_path))
    boxes, n_faces = cropper.detect_boxes(path)
    first = np.flatnonzero(n_faces == 1)[0]
    assert first > 10 and np.all(n_faces[:first] == 0)
    assert_array_equal(boxes[:first], np.broadcast_to(boxes[first], boxes[:first].shape))
    _assert_tracking_rule(boxes, n_faces)
    crops = cropper.transform([path])[0]
    assert crops.shape == (85, 3, 64, 64)
    # Frame 0 (no face) is cut at the box of the first detection.
    expected = _expected_crop(_first_frame(path), boxes[first])
    np.testing.assert_allclose(crops[0], expected, atol=1e-6)


@pytest.mark.data
def test_several_faces_uses_largest(video_dir):
    path = str(video_dir / "multi_face.jpg")
    boxes, n_faces = FaceCropper().detect_boxes(path)
    cascade = cv2.CascadeClassifier(os.path.join(cv2.data.haarcascades, CASCADE_FILE))
    faces = cascade.detectMultiScale(
        cv2.imread(path, cv2.IMREAD_GRAYSCALE), scaleFactor=1.1, minNeighbors=5, minSize=(30, 30)
    )
    assert n_faces[0] == len(faces) > 1
    largest = max(faces.tolist(), key=lambda f: f[2] * f[3])
    assert_array_equal(boxes, [largest])
    assert FaceCropper().transform([path])[0].shape == (1, 3, 64, 64)


@pytest.mark.data
def test_no_face_video(video_dir):
    path = str(video_dir / "no_face.mp4")
    with pytest.raises(ValueError, match=r"No face .*no_face\.mp4.*full_frame"):
        FaceCropper(min_size=BIG, frame_step=2).transform([path])
    cropper = FaceCropper(min_size=BIG, frame_step=2, no_face="full_frame")
    boxes, n_faces = cropper.detect_boxes(path)
    assert len(n_faces) == 48
    assert_array_equal(n_faces, 0)
    assert_array_equal(boxes, np.broadcast_to([0, 0, 960, 540], (48, 4)))
    crops = cropper.transform([path])[0]
    assert crops.shape == (48, 3, 64, 64)
    expected = _expected_crop(_first_frame(path), (0, 0, 960, 540))
    np.testing.assert_allclose(crops[0], expected, atol=1e-6)


@pytest.mark.data
def test_n_jobs_equal_and_memory(video_dir, data_home, tmp_path):
    jaffe = sorted((data_home / "jaffe").glob("*.tiff"))[:4]
    X = [str(video_dir / "single_face.jpg"), str(video_dir / "multi_face.jpg"), *map(str, jaffe)]
    X.append(str(video_dir / "single_face.mp4"))
    one = FaceCropper(max_frames=6, n_jobs=1).transform(X)
    two = FaceCropper(max_frames=6, n_jobs=2).transform(X)
    cached = FaceCropper(max_frames=6, n_jobs=2, memory=str(tmp_path)).transform(X)
    again = FaceCropper(max_frames=6, memory=str(tmp_path)).transform(X)
    assert [c.shape[0] for c in one] == [1] * 6 + [6]
    for a, b, c, d in zip(one, two, cached, again):
        assert_array_equal(a, b)
        assert_array_equal(a, c)
        assert_array_equal(a, d)


@pytest.mark.data
def test_palette_tiff(data_home):
    image = pytest.importorskip("PIL.Image")
    path = data_home / "jaffe" / "KA.AN1.39.tiff"
    with image.open(path) as pil:
        assert pil.mode == "P"  # a palette TIFF
        rgb = np.asarray(pil.convert("RGB"))
    cropper = FaceCropper()
    assert_array_equal(cropper.transform([path])[0], cropper.transform([rgb])[0])


@pytest.mark.data
@pytest.mark.slow
def test_jaffe_all_images(data_home):
    files = sorted(str(p) for p in (data_home / "jaffe").glob("*.tiff"))
    assert len(files) == 213
    clips = FaceCropper(n_jobs=2).transform(files)  # raises if a face is missing
    assert len(clips) == 213
    assert {crops.shape for crops in clips} == {(1, 3, 64, 64)}
    assert all(crops.dtype == np.float32 for crops in clips)
