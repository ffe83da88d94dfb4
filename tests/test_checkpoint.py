"""Issue 32: checkpoints without pickle, trustworthy resumes, locks, no lost reports, Ctrl-C."""

import json
import os
import pickle
import signal
from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.linear_model import Lasso

from conftest import write_wav
from skpathnet import PathNetClassifier
from skpathnet.__main__ import _free_stem, main
from skpathnet.datasets import load_manifest
from skpathnet.experiments import BEST_AUDIO, _checkpoint, evaluate, run_transfer_experiment
from skpathnet.experiments import _transfer
from skpathnet.experiments._checkpoint import CheckpointError
from skpathnet.transformers._audio import extract_clips


def _tiny_pathnet():
    return PathNetClassifier(n_generations=2, population_size=2, n_modules=4, n_active=2,
                             n_units=4, n_threads=1, random_state=0, verbose=False)


def _blobs(n=30, seed=0):
    rng = np.random.RandomState(seed)
    y = np.array(["anger", "joy", "sadness"])[rng.randint(3, size=n)]
    X = (np.searchsorted(np.unique(y), y)[:, None] * 3.0 + rng.normal(size=(n, 4)))
    return X.astype(np.float32), y


class Payload:
    """Unpickling this creates ``marker``: proof that loading ran code."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return Path.touch, (Path(self.marker),)


# --------------------------------------------------------------------------- no pickle


def test_parts_are_npz_read_without_pickle_and_round_trip_a_fitted_model(tmp_path):
    X, y = _blobs()
    model = _tiny_pathnet().fit_transfer([X], [y])
    value = {"estimator": model, "seconds": 1.5, "labels": np.array(["a", "b"], dtype=object),
             "t": torch.arange(3.0), 3: (np.float32(0.25), None, [True, "x"])}
    path = tmp_path / "source.npz"
    _checkpoint.save(path, value)
    with np.load(path, allow_pickle=False) as archive:  # every entry is a plain array
        assert all(archive[name].dtype != object for name in archive.files)
    loaded = _checkpoint.load(path)
    assert loaded["seconds"] == 1.5 and loaded[3][0] == np.float32(0.25)
    assert isinstance(loaded[3][0], np.float32) and loaded[3][1:] == (None, [True, "x"])
    assert loaded["labels"].dtype == object and list(loaded["labels"]) == ["a", "b"]
    assert torch.equal(loaded["t"], torch.arange(3.0))
    X2, y2 = _blobs(seed=1)
    np.testing.assert_array_equal(loaded["estimator"].predict_source(X, source=0),
                                  model.predict_source(X, source=0))
    np.testing.assert_array_equal(loaded["estimator"].fit(X2, y2).predict_proba(X2),
                                  model.fit(X2, y2).predict_proba(X2))


def test_what_cannot_be_saved_without_pickle_is_refused_and_not_written(tmp_path):
    with pytest.raises(TypeError, match=r"value\['rng'\].*without pickle"):
        _checkpoint.save(tmp_path / "p.npz", {"rng": np.random.RandomState(0)})
    with pytest.raises(TypeError, match=r"Lasso is not a type skpathnet saves"):
        _checkpoint.save(tmp_path / "p.npz", {"x": Lasso()})
    assert not list(tmp_path.iterdir())


def _npz_with_doc(path, doc, **arrays):
    np.savez(path, __json__=np.array(json.dumps(doc)), **arrays)


@pytest.mark.parametrize("how", ["joblib file", "object array", "foreign class", "namedtuple"])
def test_a_tampered_part_runs_no_code_and_names_the_file(tmp_path, how):
    marker = tmp_path / "pwned"
    part = tmp_path / "parts" / "fold-0.npz"
    part.parent.mkdir()
    if how == "joblib file":
        part.write_bytes(pickle.dumps({"test": Payload(marker)}))
    elif how == "object array":
        np.savez(part, __json__=np.array(json.dumps({"format": 1, "value": {
            "$": "array", "key": "a0"}})), a0=np.array([Payload(marker)], dtype=object))
    elif how == "foreign class":  # a class outside skpathnet, rebuilt from attributes
        _npz_with_doc(part, {"format": 1, "value": {
            "$": "object", "class": "subprocess:Popen",
            "state": {"$": "dict", "keys": ["args"], "values": [f"touch {marker}"]}}})
    else:
        _npz_with_doc(part, {"format": 1, "value": {
            "$": "namedtuple", "class": "skpathnet.experiments._checkpoint:os.system",
            "items": [f"touch {marker}"]}})
    with pytest.raises(CheckpointError, match=r"fold-0\.npz' is damaged .*nothing in it was "
                                              r"run\. Delete that file"):
        _checkpoint.load(part)
    X, y = _blobs()
    with pytest.raises(CheckpointError, match=r"rm .*fold-0\.npz"):
        evaluate(_tiny_pathnet(), X, y, np.arange(len(y)) % 3, checkpoint=part.parent)
    assert not marker.exists()


def test_a_truncated_part_names_the_file_and_how_to_recompute_it(tmp_path):
    X, y = _blobs()
    groups = np.arange(len(y)) % 3
    whole = evaluate(_tiny_pathnet(), X, y, groups, checkpoint=tmp_path)
    part = tmp_path / "fold-1.npz"
    part.write_bytes(part.read_bytes()[:200])
    with pytest.raises(CheckpointError, match=r"fold-1\.npz' is damaged .*Delete that file"):
        evaluate(_tiny_pathnet(), X, y, groups, checkpoint=tmp_path)
    part.unlink()  # as the message says: that fold is computed again
    again = evaluate(_tiny_pathnet(), X, y, groups, checkpoint=tmp_path)
    assert again["predictions"] == whole["predictions"]


def test_old_joblib_parts_and_a_damaged_config_are_refused(tmp_path):
    (tmp_path / "old" / "transfer").mkdir(parents=True)
    (tmp_path / "old" / "transfer" / "fold-0.joblib").write_bytes(b"\x80\x04")
    with pytest.raises(CheckpointError, match=r"joblib pickles.*never loads"):
        _checkpoint.open_checkpoint(tmp_path / "old", {}, resume=True)
    folder = tmp_path / "bad"
    _checkpoint.save(folder / "transfer" / "fold-0.npz", {"x": 1})
    (folder / "config.json").write_text("{not json")
    with pytest.raises(CheckpointError, match=r"config\.json' is damaged"):
        _checkpoint.open_checkpoint(folder, {}, resume=True)


# --------------------------------------------------------------------------- fingerprint


def _user_target(folder, labels=("angry", "sad", "angry", "sad")):
    rows = ["file,label,group"]
    for i, label in enumerate(labels):
        write_wav(folder / f"{i}.wav", seed=i)
        rows.append(f"{i}.wav,{label},s{i // 2}")
    manifest = folder / "target.csv"
    manifest.write_text("\n".join(rows) + "\n")
    return manifest


def test_resume_is_refused_when_labels_files_or_the_package_changed(tmp_path, monkeypatch):
    manifest = _user_target(tmp_path)
    parts = tmp_path / "parts"

    def config():
        return {"seed": 0, "data": _checkpoint.fingerprint({"t": load_manifest(manifest)})}

    assert not _checkpoint.open_checkpoint(parts, config(), resume=False)
    _checkpoint.save(parts / "transfer" / "fold-0.npz", {"x": 1})
    assert _checkpoint.open_checkpoint(parts, config(), resume=True)
    _user_target(tmp_path, labels=("angry", "sad", "sad", "sad"))  # labels edited
    with pytest.raises(ValueError, match=r"data\.corpora\.t\.labels: changed") as info:
        _checkpoint.open_checkpoint(parts, config(), resume=True)
    assert "files: changed" not in str(info.value)
    _user_target(tmp_path)
    os.utime(tmp_path / "2.wav", ns=(0, 0))  # a file replaced
    with pytest.raises(ValueError, match=r"data\.corpora\.t\.sizes and modification times: "
                                         r"changed"):
        _checkpoint.open_checkpoint(parts, config(), resume=True)
    monkeypatch.setattr("skpathnet.__version__", "99.0")
    with pytest.raises(ValueError, match=r"data\.package: saved '0\.1\.0', now '99\.0'"):
        _checkpoint.open_checkpoint(parts, {"seed": 0, "data": {"package": "99.0"}},
                                    resume=True)


def test_the_runner_refuses_a_resume_after_the_labels_changed_before_extraction(
        tmp_path, tone_corpus, monkeypatch):
    home = tone_corpus(tmp_path / "data")
    manifest = _user_target(tmp_path / "mine")
    parts = tmp_path / "parts"

    def no_extraction(*args, **kwargs):
        raise KeyboardInterrupt  # stands for an interrupt right after the checks

    monkeypatch.setattr(_transfer, "extract_experiment", no_extraction)
    kwargs = dict(data_home=home, params={"n_generations": 1}, checkpoint=parts, log=None)
    with pytest.raises(KeyboardInterrupt):
        run_transfer_experiment(["emovo"], str(manifest), **kwargs)
    # interrupted before anything was saved: the same command starts afresh
    with pytest.raises(KeyboardInterrupt):
        run_transfer_experiment(["emovo"], str(manifest), **kwargs)
    _checkpoint.save(parts / "transfer" / "fold-0.npz", {"x": 1})  # as if a fold finished
    _user_target(tmp_path / "mine", labels=("sad", "angry", "angry", "sad"))
    with pytest.raises(ValueError, match=r"cannot resume .*target\.csv\.labels: changed"):
        run_transfer_experiment(["emovo"], str(manifest), resume=True, **kwargs)


# --------------------------------------------------------------------------- lock and reports


def test_a_second_run_on_a_locked_parts_folder_stops_at_once(tmp_path, tone_corpus, capsys):
    home = tone_corpus(tmp_path / "data")
    out = tmp_path / "out"
    parts = out / "emovo-to-emodb-egemaps-norm-g1.parts"
    with _checkpoint.lock(parts):
        with pytest.raises(CheckpointError, match=rf"another run \(process {os.getpid()}\)"):
            with _checkpoint.lock(parts):
                pass
        code = main(["transfer", "--source", "emovo", "--target", "emodb", "--features",
                     "egemaps", "--generations", "1", "--data-home", str(home), "--out",
                     str(out), "--cache", "", "--quiet"])
        assert code == 2
        assert f"another run (process {os.getpid()}) is working in" in capsys.readouterr().err
        assert not (parts / "config.json").exists()
    with _checkpoint.lock(parts):  # released when its holder is done
        pass


def test_reports_are_never_overwritten_silently(tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    stem = f"ravdess-to-emodb-{BEST_AUDIO['features']}-norm-g40"  # the main job's report
    (out / f"{stem}.json").write_text("{}")
    code = main(["transfer", "--out", str(out), "--data-home", str(tmp_path), "--cache", ""])
    assert code == 2
    err = capsys.readouterr().err
    assert "already hold the report of an earlier run" in err and "--overwrite" in err
    assert (out / f"{stem}.json").read_text() == "{}"
    # --overwrite goes past that check (to the next error: no corpora here)
    main(["transfer", "--out", str(out), "--data-home", str(tmp_path), "--cache", "",
          "--overwrite"])
    assert "already hold" not in capsys.readouterr().err
    assert _free_stem(out, stem) == f"{stem}-2"
    assert _free_stem(out, "other") == "other"


# --------------------------------------------------------------------------- Ctrl-C


def test_ctrl_c_swallowed_by_a_native_callback_still_stops_extraction(tmp_path):
    # Python's own handler, as in a fresh interpreter: another test of the same
    # worker may have left a custom one, under which extraction changes nothing
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        _check_ctrl_c_stops_extraction()
    finally:
        signal.signal(signal.SIGINT, previous)


def _check_ctrl_c_stops_extraction():
    done = []

    def extract(clip, name, stamp):
        try:  # as openSMILE's ctypes callback: the KeyboardInterrupt is swallowed
            if len(done) == 1:
                os.kill(os.getpid(), signal.SIGINT)
        except KeyboardInterrupt:
            pass
        done.append(clip)
        return len(done)

    clips = [np.zeros(10, dtype=np.float32) for _ in range(5)]
    with pytest.raises(KeyboardInterrupt):
        extract_clips(extract, clips, n_jobs=1)
    assert len(done) == 2  # stopped after the clip in progress, not after all 5
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    assert extract_clips(lambda clip, name, stamp: 1, clips, n_jobs=1) == [1] * 5


def test_a_part_of_the_wrong_kind_names_the_file(tmp_path):
    _checkpoint.save(tmp_path / "fold-0.npz", {"x": 1})
    X, y = _blobs()
    with pytest.raises(CheckpointError, match=r"fold-0\.npz' is not a fold's result"):
        evaluate(_tiny_pathnet(), X, y, np.arange(len(y)) % 3, checkpoint=tmp_path)
    (tmp_path / "source.npz").write_bytes(b"")  # an empty source part
    with pytest.raises(CheckpointError, match=r"source\.npz' is damaged"):
        _checkpoint.load(tmp_path / "source.npz")


def test_a_parameter_that_is_no_json_value_is_saved_by_its_repr(tmp_path):
    from skpathnet import FaceAugment

    folder = tmp_path / "parts"
    config = {"params": _transfer._config_params(PathNetClassifier(augmentation=FaceAugment()))}
    assert _checkpoint.open_checkpoint(folder, config, resume=False) is False
    saved = json.loads((folder / _checkpoint.CONFIG).read_text())
    assert saved["params"]["augmentation"] == repr(FaceAugment())
    _checkpoint.open_checkpoint(folder, config, resume=True)  # the same settings resume
