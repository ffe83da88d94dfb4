"""Corpora and front ends of an experiment: built-in or users' corpora -> features."""

import functools
from pathlib import Path

import numpy as np

from ..datasets import (
    get_data_home, load_ckplus, load_emodb, load_emovo, load_enterface, load_folder, load_jaffe,
    load_manifest, load_ravdess, load_savee,
)
from sklearn.pipeline import make_pipeline

from ..transformers import (
    AcousticFunctionals, FaceCropper, FaceHOG, GroupStandardScaler, LogMelSegmenter,
    OpenSmileFunctionals, low_coverage_groups,
)

__all__ = ["AUDIO_FEATURES", "BEST_AUDIO", "BEST_VISUAL", "CORPORA", "OPENSMILE_FEATURES",
           "VISUAL_FEATURES", "VISUAL_SHARED_EMOTIONS", "describe_corpus", "extract_features",
           "front_end", "load_corpus", "other_corpora", "speaker_norm_applies"]

#: Built-in corpus name -> (loader, modality). SAVEE and eNTERFACE'05 are
#: audio-visual: ``savee`` / ``enterface`` are their speech, ``savee-visual`` /
#: ``enterface-visual`` their face videos.
CORPORA = {
    "emodb": (load_emodb, "audio"),
    "ravdess": (load_ravdess, "audio"),
    "emovo": (load_emovo, "audio"),
    "savee": (functools.partial(load_savee, modality="audio"), "audio"),
    "enterface": (functools.partial(load_enterface, modality="audio"), "audio"),
    "jaffe": (load_jaffe, "visual"),
    "ckplus": (load_ckplus, "visual"),
    "savee-visual": (functools.partial(load_savee, modality="visual"), "visual"),
    "enterface-visual": (functools.partial(load_enterface, modality="visual"), "visual"),
}

#: openSMILE front ends (the ``opensmile`` extra, audEERING's research licence): the
#: research-licensed reference sets, by the name of their feature set.
OPENSMILE_FEATURES = {"compare": "ComParE_2016", "egemaps": "eGeMAPSv02"}

#: Audio front ends: librosa acoustic functionals (``"functionals"``,
#: :class:`~skpathnet.transformers.AcousticFunctionals`, the default, no extra
#: needed), the paper's log-mel segments (``"logmel"``), or openSMILE's sets.
AUDIO_FEATURES = ("functionals", "logmel", *OPENSMILE_FEATURES)

#: Face front ends: the paper's 64 x 64 x 3 crops (``"crops"``), or their
#: histograms of oriented gradients (``"hog"``, :class:`~skpathnet.transformers.FaceHOG`).
VISUAL_FEATURES = ("crops", "hog")

#: The best honest PathNet configuration for speech (benchmarks/RESULTS.md,
#: "Accuracy" and "Speech front end without a research licence"): acoustic
#: functionals from librosa (:class:`~skpathnet.transformers.AcousticFunctionals`,
#: no licence restriction), speaker normalisation, more SGD per tournament than
#: the paper's T = n / 64 steps at learning rate 0.02, wider modules (64 units,
#: not 20) and two layers instead of the paper's three (Nguyen et al. 2020,
#: Sec. 4). Front end and PathNet settings chosen on RAVDESS speakers, never on
#: the targets. ``"auto"`` normalises every corpus whose speakers cover the
#: emotions (:func:`speaker_norm_applies`): all the built-in speech corpora.
BEST_AUDIO = {"features": "functionals", "speaker_norm": "auto",
              "params": {"n_steps": 100, "learning_rate": 0.1, "n_units": 64, "n_layers": 2}}

#: The best honest PathNet configuration for faces (benchmarks/RESULTS.md,
#: "Faces: histograms of oriented gradients"): HOG of the crops at Dalal and
#: Triggs' settings (fixed before any run), subject normalisation, and the
#: speech search's PathNet settings, not searched again. Subject normalisation
#: (``"auto"``) only for corpora whose subjects pose the emotions: JAFFE, not
#: CK+48, where most subjects pose at most 3 of the 6 and it costs 0.015 WAR.
BEST_VISUAL = {"features": "hog", "speaker_norm": "auto", "params": BEST_AUDIO["params"]}

#: The six emotions shared by the visual corpora, to which Nguyen et al.
#: (2020, Sec. 4) restrict the visual experiments.
VISUAL_SHARED_EMOTIONS = ("anger", "disgust", "fear", "happiness", "sadness", "surprise")


def load_corpus(name, *, data_home=None, labels=None, label_pattern=None, group_pattern=None,
                label_map=None, keep_labels=False, fold_groups=False, modality=None):
    """Load a built-in corpus, a user's manifest or a user's folder.

    Parameters
    ----------
    name : str
        A key of :data:`CORPORA`; else the path of a manifest (a CSV with
        ``file``, ``label`` and ``group`` columns,
        :func:`~skpathnet.datasets.load_manifest`) or of a folder read by
        :func:`~skpathnet.datasets.load_folder` with ``label_pattern`` and
        ``group_pattern``.
    data_home : str, default=None
        Folder of the built-in corpora (default: ``SKPATHNET_DATA``).
    labels : sequence of str, default=None
        Keep only these labels (built-in corpora only; a user's corpus keeps
        its labels).
    label_pattern, group_pattern : str, default=None
        Regular expressions with one named group, applied to each file's
        path relative to the folder (folders only).
    label_map, keep_labels, fold_groups, modality
        For a user's manifest or folder, as for
        :func:`~skpathnet.datasets.load_manifest` (built-in corpora ignore
        them).

    Returns
    -------
    bunch : sklearn.utils.Bunch
        As returned by the loader (``filenames``, ``target``, ``groups``,
        ...), with ``modality`` ("audio" or "visual") and ``name`` (the
        corpus name, or the file or folder name of a user's corpus).

    Raises
    ------
    ValueError
        If ``name`` is neither a built-in corpus nor an existing file or
        folder, or a folder is given without both patterns.
    """
    if name in CORPORA:
        loader, modality = CORPORA[name]
        bunch = loader(data_home)
        if labels is not None:
            keep = np.isin(bunch.target, labels)
            for key in ("filenames", "target", "groups"):
                bunch[key] = bunch[key][keep]
            bunch["target_names"] = np.unique(bunch.target)
        bunch["modality"], bunch["name"] = modality, name
        return bunch
    path = Path(name).expanduser()
    if path.is_file():
        user = {"label_map": label_map, "keep_labels": keep_labels, "fold_groups": fold_groups,
                "modality": modality}
        bunch = load_manifest(path, **user)
    elif path.is_dir():
        if label_pattern is None or group_pattern is None:
            raise ValueError(
                f"{name!r} is a folder: give --label-pattern and --group-pattern, regular "
                "expressions with one named group applied to each file's path relative to "
                r"it, e.g. --label-pattern '^[^/]+/(?P<label>[^/]+)/' --group-pattern "
                r"'^(?P<group>[^/]+)/' for <speaker>/<emotion>/001.wav."
            )
        bunch = load_folder(path, label=label_pattern, group=group_pattern, label_map=label_map,
                            keep_labels=keep_labels, fold_groups=fold_groups, modality=modality)
    else:
        raise ValueError(
            f"Unknown corpus {name!r}: neither a built-in corpus ({', '.join(sorted(CORPORA))}) "
            "nor an existing manifest file or folder."
        )
    bunch["name"] = path.stem if path.is_file() else path.name
    return bunch


def other_corpora(target, *, modality=None, data_home=None):
    """Leave-one-corpus-out sources: every other built-in corpus of the target's modality here.

    The sources a user would pretrain on for ``target``: each key of
    :data:`CORPORA` of the same modality whose files are under the data
    home (its loader finds them), except ``target`` itself; each keeps its
    own label set (PathNet and fine-tuning learn one output layer per
    source). Largest corpus first (most clips; ties in :data:`CORPORA`
    order): sources are learnt in order, so the first one lays down the
    first frozen pathway that every later source and the target build on.

    Parameters
    ----------
    target : str
        A key of :data:`CORPORA`, or a user's corpus (then give
        ``modality``).
    modality : {"audio", "visual"}, default=None
        The sources' modality; None: the built-in target's.
    data_home : str, default=None
        Folder of the built-in corpora (default: ``SKPATHNET_DATA``).

    Returns
    -------
    sources : list of str
        Keys of :data:`CORPORA`, largest first.

    Raises
    ------
    ValueError
        If ``modality`` is neither given nor known from ``target``, or no
        other corpus of that modality is under the data home.
    FileNotFoundError
        If there is no data home (neither ``data_home`` nor ``SKPATHNET_DATA``).

    Examples
    --------
    >>> from skpathnet.experiments import other_corpora
    >>> other_corpora("emodb")  # doctest: +SKIP
    ['ravdess', 'emovo']
    """
    if modality is None:
        if target not in CORPORA:
            raise ValueError(
                f"{target!r} is not a built-in corpus: give the modality ('audio' or 'visual') "
                "of the sources to gather for it."
            )
        modality = CORPORA[target][1]
    if modality not in ("audio", "visual"):
        raise ValueError(f"modality must be 'audio' or 'visual'; got {modality!r}.")
    home = get_data_home(data_home)  # no data home at all is an error, not "no corpus"
    sizes = {}
    for name, (loader, kind) in CORPORA.items():
        if kind != modality or name == target:
            continue
        try:
            sizes[name] = len(loader(home).target)
        except FileNotFoundError:
            continue
    if not sizes:
        what = "speech" if modality == "audio" else "face"
        raise ValueError(
            f"no {what} corpus but {target!r} under {str(home)!r} (looked for "
            + ", ".join(n for n, (_, k) in CORPORA.items() if k == modality and n != target)
            + "): put at least one there to use the other corpora as sources."
        )
    return sorted(sizes, key=lambda name: -sizes[name])  # stable: CORPORA order for ties


def load_corpora(names, *, data_home=None, corpus_options=None, what="the corpora"):
    """Load several corpora (:func:`load_corpus`) and check that they share one modality.

    The built-in visual corpora keep the six emotions they share
    (:data:`VISUAL_SHARED_EMOTIONS`). A name given twice is loaded once.

    Parameters
    ----------
    names : sequence of str
    data_home : str, default=None
    corpus_options : dict, default=None
        Keywords of :func:`load_corpus` for users' corpora
        (``label_pattern``, ``group_pattern``, ``label_map``,
        ``keep_labels``, ``fold_groups``, ``modality``).
    what : str, default="the corpora"
        How the error message names them.

    Returns
    -------
    bunches : dict of str to Bunch
        In the order of ``names``.

    Raises
    ------
    ValueError
        As :func:`load_corpus`, or if the corpora mix speech and faces
        (the message lists each corpus with its modality).
    FileNotFoundError
        If a built-in corpus is missing.
    """
    bunches = {}
    for name in dict.fromkeys(names):
        visual = name in CORPORA and CORPORA[name][1] == "visual"
        bunches[name] = load_corpus(name, data_home=data_home,
                                    labels=VISUAL_SHARED_EMOTIONS if visual else None,
                                    **(corpus_options or {}))
    if len({b.modality for b in bunches.values()}) != 1:
        raise ValueError(f"{what} mix speech and faces: " + ", ".join(
            f"{n} ({b.modality})" for n, b in bunches.items()) + ".")
    return bunches


def describe_corpus(bunch):
    """One line: files, classes with counts, and speakers/subjects of a loaded corpus."""
    labels, counts = np.unique(bunch.target, return_counts=True)
    classes = ", ".join(f"{label} {count}" for label, count in zip(labels, counts))
    who = "speakers" if bunch.modality == "audio" else "subjects"
    return (f"{bunch.name}: {len(bunch.target)} files, {len(labels)} classes ({classes}), "
            f"{len(np.unique(bunch.groups))} {who}")


def front_end(name, *, features="logmel", modality=None, n_jobs=None, memory=None):
    """The feature extractor for corpus ``name``.

    Speech: ``features`` is one of :data:`AUDIO_FEATURES`: librosa acoustic
    functionals (``"functionals"``), the paper's log-mel segments (front-end
    defaults of Nguyen et al. 2020, Sec. 3.2) or openSMILE functionals
    (``"compare"``, ``"egemaps"``: the ``opensmile`` extra). Faces: the
    paper's face crops, or with ``features="hog"`` their HOG descriptors
    (crops then :class:`~skpathnet.transformers.FaceHOG`); any other ``features`` means
    the crops. CK+48 images are already face crops of 48 x 48 pixels: the
    detector runs with a small ``min_size`` and falls back to the whole image.

    Raises
    ------
    ValueError
        If speech ``features`` is not one of :data:`AUDIO_FEATURES`.
    """
    modality = modality or CORPORA[name][1]
    if modality == "audio":
        if features not in AUDIO_FEATURES:
            raise ValueError(
                f"Unknown audio features {features!r}; choose from {sorted(AUDIO_FEATURES)}."
            )
        if features == "functionals":
            return AcousticFunctionals(n_jobs=n_jobs, memory=memory)
        if features == "logmel":
            return LogMelSegmenter(n_jobs=n_jobs, memory=memory)
        return OpenSmileFunctionals(
            feature_set=OPENSMILE_FEATURES[features], n_jobs=n_jobs, memory=memory
        )
    if name == "ckplus":
        cropper = FaceCropper(min_size=(20, 20), no_face="full_frame", n_jobs=n_jobs,
                              memory=memory)
    else:
        cropper = FaceCropper(n_jobs=n_jobs, memory=memory)
    return make_pipeline(cropper, FaceHOG()) if features == "hog" else cropper


def speaker_norm_applies(bunch, speaker_norm):
    """Whether a corpus is speaker-normalised under ``speaker_norm``.

    Parameters
    ----------
    bunch : Bunch
        The corpus (:func:`load_corpus`), with ``target`` and ``groups``.
    speaker_norm : bool or "auto"
        ``True`` or ``False`` as given; ``"auto"``: only where no speaker's
        (subject's) labels cover half of the corpus's emotions or fewer
        (:func:`~skpathnet.transformers.low_coverage_groups`, the check
        behind :class:`~skpathnet.transformers.LabelCoverageWarning`), since
        normalising such a speaker removes the emotion signal. The labels
        say only which emotions each speaker was recorded with, a property
        of the corpus's design: every built-in speech corpus and JAFFE are
        normalised, CK+48 (80 of its 106 subjects pose at most 3 of the 6
        shared emotions) is not. The decision is taken once per corpus, from
        all of its speakers; on every built-in corpus the training speakers
        of any fold give the same one.

    Returns
    -------
    applies : bool

    Raises
    ------
    ValueError
        If ``speaker_norm`` is none of True, False and "auto".
    """
    value = check_speaker_norm(speaker_norm)
    if value == "auto":
        return not low_coverage_groups(bunch.target, bunch.groups)
    return value


def check_speaker_norm(speaker_norm):
    """``speaker_norm`` as True, False or "auto"; ValueError for anything else."""
    if isinstance(speaker_norm, str) and speaker_norm == "auto":
        return speaker_norm
    if isinstance(speaker_norm, (bool, np.bool_)):
        return bool(speaker_norm)
    raise ValueError(f"speaker_norm must be True, False or 'auto'; got {speaker_norm!r}.")


def extract_features(name, bunch, *, features="logmel", speaker_norm=False, n_jobs=None,
                     memory=None):
    """Run the corpus's front end over its files: one row (clip or feature vector) per file.

    With ``speaker_norm`` (True, or "auto" where :func:`speaker_norm_applies`),
    each speaker's (subject's) features are then standardised with that
    speaker's own statistics
    (:class:`~skpathnet.transformers.GroupStandardScaler`; it warns if a
    speaker's labels cover too few emotions). Done once per corpus, this is
    exactly the normalisation inside each fold of a group-wise
    cross-validation, since a speaker's features depend on that speaker
    alone.
    """
    normalise = speaker_norm_applies(bunch, speaker_norm)  # a bad value fails before the work
    modality = bunch.get("modality") or CORPORA[name][1]
    X = front_end(name, features=features, modality=modality, n_jobs=n_jobs,
                  memory=memory).fit_transform(bunch.filenames)
    if normalise:
        scaler = GroupStandardScaler().fit(X, bunch.target, groups=bunch.groups)
        X = scaler.transform(X, groups=bunch.groups)
    return X
