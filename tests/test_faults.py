"""Faults: interrupts, bad inputs, damaged media, unwritable output, resumed runs.

Each test asserts the exact outcome: the estimator's state kept bit for bit,
the message text, the files saved, the resumed result equal to one run.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GroupKFold, cross_validate

from conftest import blobs_with, fitted_state
from skpathnet import PathNetClassifier
from skpathnet.experiments import evaluate
from skpathnet.__main__ import main
from skpathnet.baselines import FineTuneClassifier
from skpathnet.transformers import FaceCropper

REPO = Path(__file__).resolve().parents[1]


blobs = blobs_with(n=48, n_features=6, seed=1)


TINY = {
    "pathnet": lambda **kw: PathNetClassifier(
        n_generations=2, population_size=2, n_modules=4, n_active=2, n_units=4,
        n_threads=1, random_state=0, **kw),
    "finetune": lambda **kw: FineTuneClassifier(
        max_epochs=2, hidden_units=(4,), n_threads=1, random_state=0, **kw),
}


@pytest.fixture
def interrupt(monkeypatch):
    """``interrupt(kind, after)``: raise KeyboardInterrupt inside training on call ``after + 1``.

    PathNet: the engine's pathway training (one call per tournament pathway);
    fine-tuning: torch's SGD step. Returns the call counter (a list of one int).
    """
    def arm(kind, after):
        calls = [0]
        if kind == "pathnet":
            import skpathnet.engine._evolution as evolution
            real = evolution.train_pathways
        else:
            import torch
            real = torch.optim.SGD.step

        def wrapper(*args, **kwargs):
            calls[0] += 1
            if calls[0] > after:
                raise KeyboardInterrupt
            return real(*args, **kwargs)

        if kind == "pathnet":
            monkeypatch.setattr(evolution, "train_pathways", wrapper)
        else:
            monkeypatch.setattr(torch.optim.SGD, "step", wrapper)
        return calls

    return arm


# ------------------------------------------------------------ interrupted fits


@pytest.mark.parametrize("kind", sorted(TINY))
def test_interrupted_fit_keeps_the_previous_target_fit(kind, interrupt):
    Xs, ys = blobs(seed=1)
    X, y = blobs(seed=2)
    clf = TINY[kind]().fit_transfer(Xs, ys).fit(X, y)
    before = fitted_state(clf)
    interrupt(kind, after=1)
    with pytest.raises(KeyboardInterrupt):  # fine-tuning: not swallowed by skorch
        clf.fit(*blobs(n=30, seed=3))
    assert fitted_state(clf) == before


@pytest.mark.parametrize("kind", sorted(TINY))
def test_interrupted_first_fit_leaves_the_estimator_unfitted(kind, interrupt):
    clf = TINY[kind]()
    before = fitted_state(clf)
    interrupt(kind, after=0)
    with pytest.raises(KeyboardInterrupt):
        clf.fit(*blobs())
    assert fitted_state(clf) == before and not hasattr(clf, "n_features_in_")


@pytest.mark.parametrize("kind", sorted(TINY))
def test_interrupted_fit_transfer_keeps_sources_and_target(kind, interrupt):
    clf = TINY[kind]().fit_transfer(*blobs(seed=1)).fit(*blobs(seed=2))
    before = fitted_state(clf)
    (Xa, ya), (Xb, yb) = blobs(seed=4), blobs(seed=5)
    calls = interrupt(kind, after=3)  # in the second source
    with pytest.raises(KeyboardInterrupt):
        clf.fit_transfer([Xa, Xb], [ya, yb])
    assert calls[0] == 4
    assert fitted_state(clf) == before


@pytest.mark.parametrize("kind", sorted(TINY))
def test_interrupted_cross_validate_propagates_and_keeps_the_estimator(kind, interrupt):
    X, y = blobs(n=60)
    groups = np.repeat(np.arange(3), 20)
    clf = TINY[kind]().fit_transfer(*blobs(seed=1))
    before = fitted_state(clf)
    # fold 2 of 3: 4 pathway trainings, or 2 SGD steps, per fold
    calls = interrupt(kind, after=5 if kind == "pathnet" else 3)
    with pytest.raises(KeyboardInterrupt):  # neither nan scores nor a half-trained fold
        cross_validate(clf, X, y, groups=groups, cv=GroupKFold(3))
    assert calls[0] == (6 if kind == "pathnet" else 4)
    assert fitted_state(clf) == before


def test_interrupted_evaluate_resumes_from_saved_folds(tmp_path, interrupt, monkeypatch):
    X, y = blobs(n=60)
    groups = np.repeat(np.arange(3), 20)
    clf = TINY["pathnet"]()
    whole = evaluate(clf, X, y, groups)
    calls = interrupt("pathnet", after=5)  # during fold 2
    with pytest.raises(KeyboardInterrupt):
        evaluate(clf, X, y, groups, checkpoint=tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fold-0.npz"]
    monkeypatch.undo()
    lines = []
    resumed = evaluate(clf, X, y, groups, checkpoint=tmp_path, log=lines.append)
    assert calls[0] == 6
    assert "(saved before)" in lines[0] and "(saved before)" not in lines[1]
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"fold-{i}.npz" for i in range(3)]
    _assert_same_scores(resumed, whole)
    # a checkpoint of other folds is not silently mixed in
    with pytest.raises(ValueError, match="other samples than fold 0"):
        evaluate(clf, X, y, groups[::-1], checkpoint=tmp_path)


def _assert_same_scores(a, b):
    """Equal fold records, pooled scores and predictions; timings ignored."""
    strip = lambda folds: [{k: v for k, v in f.items() if k != "seconds"} for f in folds]
    assert strip(a["folds"]) == strip(b["folds"])
    assert a["clip"] == b["clip"] and a["segment"] == b["segment"]
    assert a["predictions"] == b["predictions"]


# ------------------------------------------------------------ bad sources and parameters


@pytest.mark.parametrize("kind", sorted(TINY))
@pytest.mark.parametrize("fault, match", [
    ("nan", "source 2 of 2: Input contains NaN"),
    ("one_class", "source 2 of 2: Classifier can't train when only one class is present"),
    ("features", "source 2 of 2: it has 5 features per segment, but source 1 has 6"),
    ("length", "source 2 of 2: Found input variables with inconsistent numbers"),
    ("empty", "source 2 of 2: X is empty"),
])
def test_bad_second_source_is_named_before_any_training(kind, fault, match, interrupt):
    (Xa, ya), (Xb, yb) = blobs(seed=1), blobs(seed=2)
    if fault == "nan":
        Xb[3, 2] = np.nan
    elif fault == "one_class":
        yb = np.zeros_like(yb)
    elif fault == "features":
        Xb = Xb[:, :5]
    elif fault == "length":
        yb = yb[:-1]
    else:
        Xb, yb = Xb[:0], yb[:0]
    calls = interrupt(kind, after=10**9)  # counts training calls only
    clf = TINY[kind]()
    with pytest.raises(ValueError, match=match):
        clf.fit_transfer([Xa, Xb], [ya, yb])
    assert calls[0] == 0 and not hasattr(clf, "n_features_in_")


@pytest.mark.parametrize("kind", sorted(TINY))
def test_single_class_fit_is_a_clear_error(kind):
    X, _ = blobs()
    with pytest.raises(ValueError, match="only one class is present: every label of y is 2"):
        TINY[kind]().fit(X, np.full(len(X), 2))


@pytest.mark.parametrize("kind", sorted(TINY))
@pytest.mark.parametrize("fault, match", [
    ("length", r"X_val has 8 samples \(clips\), y_val has 7\."),
    ("missing", r"y_val holds 1 missing labels \(None or NaN\), at positions \[3\]"),
])
def test_bad_y_val_is_named_y_val(kind, fault, match):
    X, y = blobs()
    X_val, y_val = X[40:], y[40:]
    if fault == "length":
        y_val = y_val[:-1]
    else:
        y_val = y_val.astype(object)
        y_val[3] = None
    with pytest.raises(ValueError, match=match):
        TINY[kind]().fit(X[:40], y[:40], X_val=X_val, y_val=y_val)


@pytest.mark.parametrize("kind", sorted(TINY))
def test_empty_fit_says_empty(kind):
    with pytest.raises(ValueError, match=r"X is empty \(0 samples\)"):
        TINY[kind]().fit([], [])


@pytest.mark.parametrize("kind", sorted(TINY))
def test_predict_source_before_fit_transfer_says_call_fit_transfer(kind):
    X, y = blobs()
    clf = TINY[kind]().fit(X, y)
    with pytest.raises(NotFittedError, match=r"call fit_transfer\(source_X, source_y\)"):
        clf.predict_source(X)


IMAGES = (3, 4, 4)  # 48 features as tiny images, for the convolutional modules


@pytest.mark.parametrize("base, param, value", [
    ({}, "n_layers", 2), ({}, "n_modules", 5), ({}, "n_units", 7), ({}, "module", "conv"),
    ({"module": "conv"}, "n_channels", 3), ({"module": "conv"}, "kernel_size", 1),
])
def test_changed_pathnet_architecture_names_the_parameter(base, param, value):
    X, y = blobs(n_features=48, shape=IMAGES)
    transferred = TINY["pathnet"](**base).fit_transfer(X, y)
    was = transferred.get_params()[param]
    with pytest.raises(ValueError, match=f"{param}={value!r} differs from the transferred "
                                         f"source network's {param}={was!r}"):
        clone(transferred).set_params(**{param: value}).fit(X, y)


def test_changed_finetune_architecture_names_the_parameter():
    X, y = blobs()
    transferred = TINY["finetune"]().fit_transfer(X, y)
    with pytest.raises(ValueError, match=r"hidden_units=\(4, 4\) differs .* hidden_units=\(4,\)"):
        clone(transferred).set_params(hidden_units=(4, 4)).fit(X, y)


# ------------------------------------------------------------ damaged media


@pytest.fixture
def media(data_home, tmp_path):
    """Copies of the shared single-face image and video in tmp_path."""
    for name in ("single_face.jpg", "single_face.mp4"):
        shutil.copy(data_home / "video" / name, tmp_path / name)
    return tmp_path


def _truncate(path, fraction):
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * fraction)])
    return str(path)


def test_truncated_jpeg_is_an_error_not_a_grey_crop(media):
    path = _truncate(media / "single_face.jpg", 0.9)
    with pytest.raises(ValueError, match=r"JPEG file .*single_face\.jpg' is truncated"):
        FaceCropper().transform([path])


def test_truncated_mp4_is_an_error(media):
    path = _truncate(media / "single_face.mp4", 0.5)  # its index (moov) is cut off
    with pytest.raises(ValueError, match=r"single_face\.mp4' .*damaged or truncated"):
        FaceCropper().transform([path])


def test_truncated_video_decoding_half_its_frames_is_an_error(tmp_path):
    path = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (32, 24))
    rng = np.random.default_rng(0)
    for _ in range(20):
        writer.write(rng.integers(0, 255, (24, 32, 3), dtype=np.uint8))
    writer.release()
    whole = FaceCropper(no_face="full_frame").transform([str(path)])
    assert whole[0].shape[0] == 20
    _truncate(path, 0.5)
    with pytest.raises(ValueError, match=r"clip\.avi' is truncated or damaged: OpenCV decoded "
                                         r"[0-9]+ of the 20 frames"):
        FaceCropper(no_face="full_frame").transform([str(path)])
    # max_frames stops before the damage: nothing to report
    assert FaceCropper(no_face="full_frame", max_frames=5).transform([str(path)])[0].shape[0] == 5


def test_random_bytes_named_png_are_not_blamed_on_a_codec(tmp_path):
    path = tmp_path / "face.png"
    path.write_bytes(np.random.default_rng(0).bytes(1000))
    with pytest.raises(ValueError, match=r"face\.png' is not a decodable image") as info:
        FaceCropper().transform([str(path)])
    assert "codec" not in str(info.value)


def test_a_directory_is_named_as_a_directory(tmp_path):
    with pytest.raises(IsADirectoryError, match="is a directory, not an image or video file"):
        FaceCropper().transform([str(tmp_path)])


# ------------------------------------------------------------ the main job


def test_unwritable_output_fails_before_any_work(tmp_path, capsys):
    (tmp_path / "file").write_text("")
    code = main(["transfer", "--out", str(tmp_path / "file" / "out"),
                 "--data-home", str(tmp_path / "nowhere"), "--cache", ""])
    assert code == 2
    err = capsys.readouterr().err
    assert "cannot write to the --out folder" in err and "file/out" in err
    assert "not found" not in err  # the corpora were not looked at yet


@pytest.mark.parametrize("argv, message", [
    (["--population", "1"], "--population: must be an integer >= 2"),
    (["--folds", "1"], "--folds: must be an integer >= 2"),
    (["--n-jobs", "0"], "--n-jobs"),
])
def test_bad_options_are_rejected_at_parse_time(argv, message, capsys):
    with pytest.raises(SystemExit) as info:
        main(["transfer", *argv])
    assert info.value.code == 2 and message in capsys.readouterr().err


@pytest.mark.parametrize("argv, message", [
    (["--modality", "visual", "--source", "ravdess", "--target", "emodb"],
     "--modality visual, but ravdess, emodb are speech corpus/corpora"),
    (["--modality", "visual", "--target", "emodb"], "--modality visual, but emodb is a speech"),
    (["--modality", "audio", "--source", "jaffe"], "--modality audio, but jaffe is a face"),
    (["--source", "jaffe", "--target", "emodb"], "mix speech and face corpora"),
    (["--modality", "visual", "--features", "egemaps"],
     "--features egemaps is not a face front end; choose one of crops, hog"),
    (["--features", "hog"],
     "--features hog is not a speech front end; choose one of compare, egemaps, functionals, logmel"),
])
def test_modality_must_match_the_corpora(argv, message, tmp_path, capsys):
    assert main(["transfer", *argv, "--out", str(tmp_path), "--cache", ""]) == 2
    assert message in capsys.readouterr().err


def test_too_many_folds_fail_before_feature_extraction(tmp_path, capsys, tone_corpus):
    tone_corpus(tmp_path / "data")
    code = main(["transfer", "--source", "emovo", "--target", "emodb", "--folds", "3",
                 "--data-home", str(tmp_path / "data"), "--out", str(tmp_path / "out"),
                 "--cache", "", "--quiet"])
    captured = capsys.readouterr()
    assert code == 2 and "cannot split emodb (2 speakers/subjects)" in captured.err
    assert "clips" not in captured.out  # no corpus was extracted


TONE_RUN = ["transfer", "--source", "emovo", "--target", "emodb", "--features", "egemaps",
            "--generations", "3", "--population", "2", "--quiet", "--n-jobs", "1",
            "--threads", "1", "--cache", ""]


@pytest.mark.slow
def test_ctrl_c_saves_folds_and_resume_equals_one_run(tmp_path, tone_corpus, capsys):
    pytest.importorskip("opensmile")
    data = tone_corpus(tmp_path / "data", emodb_speakers=("03", "08", "09"))
    run = [*TONE_RUN, "--data-home", str(data)]
    stem = "emovo-to-emodb-egemaps-norm-g3"
    out = tmp_path / "out"
    parts = out / f"{stem}.parts"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(REPO), os.environ.get("PYTHONPATH", "")])}
    # A shell starts background jobs with SIGINT ignored, and a Python started with it
    # ignored keeps ignoring it: restore the default so that Ctrl-C reaches the job.
    proc = subprocess.Popen([sys.executable, "-m", "skpathnet", *run, "--out", str(out)],
                            cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 120
    while not (parts / "transfer" / "fold-0.npz").exists():
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.01)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    assert lines[0].startswith("skpathnet: interrupted; saved the fitted source phase and ")
    assert lines[0].endswith(f"in {parts}; run the same command with --resume to continue.")
    assert not (out / f"{stem}.json").exists()
    assert (parts / "source.npz").exists() and (parts / "config.json").exists()
    saved = sorted(p.name for p in (parts / "transfer").iterdir())
    assert saved and len(saved) < 3

    # The saved run is never overwritten nor resumed with other settings.
    capsys.readouterr()
    assert main([*run, "--out", str(out)]) == 2
    assert "run again with --resume to continue it" in capsys.readouterr().err
    assert main([*run, "--out", str(out), "--resume", "--seed", "1"]) == 2
    assert "random_state: saved 0, now 1" in capsys.readouterr().err

    assert main([*run, "--out", str(out), "--resume"]) == 0
    assert "(saved before)" in capsys.readouterr().out
    assert not parts.exists()  # removed once the reports are written
    assert main([*run, "--out", str(tmp_path / "whole")]) == 0
    resumed = json.loads((out / f"{stem}.json").read_text())
    whole = json.loads((tmp_path / "whole" / f"{stem}.json").read_text())
    assert set(resumed["methods"]) == set(whole["methods"]) == {"transfer", "scratch"}
    for method in whole["methods"]:
        _assert_same_scores(resumed["methods"][method], whole["methods"][method])
    assert resumed["methods"]["transfer"]["source_paths"] == \
        whole["methods"]["transfer"]["source_paths"]


# ------------------------------------------------------------ the paper benchmark


@pytest.fixture(scope="module")
def bench():
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_paper",
                                                  REPO / "benchmarks" / "bench_paper.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("argv, message", [
    (["--population", "1"], "--population must be >= 2; got 1"),
    (["--folds", "1"], "--folds must be >= 2; got 1"),
    (["--kfold-splits", "1"], "--kfold-splits must be >= 2; got 1"),
    (["--out", "{tmp}/file/out"], "cannot write to the --out folder"),
])
def test_bench_paper_checks_options_before_any_work(bench, argv, message, tmp_path, capsys):
    (tmp_path / "file").write_text("")
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    with pytest.raises(SystemExit) as info:
        bench.main([*argv, "--data-home", str(tmp_path / "nowhere"), "--cache", ""]
                   + ([] if "--out" in argv else ["--out", str(tmp_path / "out")]))
    assert info.value.code == 2 and message in capsys.readouterr().err
