"""Loaders of the emotional speech corpora EMO-DB, RAVDESS and EMOVO.

Each loader reads a user's copy of a corpus in place, laid out as
distributed, and returns the audio file paths with labels in the shared
vocabulary :data:`~skpathnet.datasets.EMOTIONS` and speaker ids as groups
(for :class:`~sklearn.model_selection.LeaveOneGroupOut` and the like).
File names carry every label; a name that does not follow the corpus's
pattern raises rather than being skipped.
"""

import re

import numpy as np

from ._base import corpus_dir, make_bunch

__all__ = ["load_emodb", "load_ravdess", "load_emovo"]

#: EMO-DB emotion code (6th character of the file name) -> shared label.
EMODB_EMOTIONS = {
    "W": "anger",  # Wut
    "L": "boredom",  # Langeweile
    "E": "disgust",  # Ekel
    "A": "fear",  # Angst
    "F": "happiness",  # Freude
    "T": "sadness",  # Trauer
    "N": "neutral",
}

#: RAVDESS emotion code (3rd field of the file name) -> shared label.
RAVDESS_EMOTIONS = {
    "01": "neutral",
    "02": "calm",
    "03": "happiness",
    "04": "sadness",
    "05": "anger",
    "06": "fear",
    "07": "disgust",
    "08": "surprise",
}

#: RAVDESS emotional intensity code (4th field) -> intensity.
RAVDESS_INTENSITIES = {"01": "normal", "02": "strong"}

#: RAVDESS statement code (5th field) -> the sentence spoken.
RAVDESS_STATEMENTS = {
    "01": "Kids are talking by the door",
    "02": "Dogs are sitting by the door",
}

#: EMOVO emotion prefix of the file name -> shared label.
EMOVO_EMOTIONS = {
    "dis": "disgust",  # disgusto
    "gio": "happiness",  # gioia
    "pau": "fear",  # paura
    "rab": "anger",  # rabbia
    "sor": "surprise",  # sorpresa
    "tri": "sadness",  # tristezza
    "neu": "neutral",
}

#: Audio file extensions the loaders list (matched case-insensitively).
AUDIO_SUFFIXES = (".wav", ".flac")

_EXT = r"\.(?i:wav|flac)"
_EMODB_NAME = re.compile(r"(\d\d)([a-b]\d\d)([A-Z])([a-z])" + _EXT)
_RAVDESS_NAME = re.compile(r"(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)" + _EXT)
_EMOVO_NAME = re.compile(r"([a-z]{3})-([fm]\d)-([a-z]\d)" + _EXT)

_EMODB_DESCR = """\
EMO-DB, the Berlin Database of Emotional Speech (Burkhardt et al., 2005).

535 German utterances by 10 actors (5 female, 5 male; speaker ids 03, 08,
09, 10, 11, 12, 13, 14, 15, 16), each acting 10 everyday sentences in 7
emotions; 16 kHz mono WAV, 1.2 to 9 s. File names such as ``03a01Fa.wav``
code speaker (2 digits), sentence (``a01``..``b10``, the ``text`` field),
emotion (6th character: W anger, L boredom, E disgust, A fear,
F happiness, T sadness, N neutral) and version. Counts: anger 127,
boredom 81, neutral 79, happiness 71, fear 69, sadness 62, disgust 46.
Expected layout: ``<data_home>/emodb/wav/03a01Fa.wav`` (the official
download's ``wav/`` folder).

Licence: distributed free of charge for research by TU Berlin; check the
terms of your copy and cite: F. Burkhardt, A. Paeschke, M. Rolfes,
W. Sendlmeier and B. Weiss, "A Database of German Emotional Speech",
Proc. Interspeech 2005, pp. 1517-1520.
"""

_RAVDESS_DESCR = """\
RAVDESS, the Ryerson Audio-Visual Database of Emotional Speech and Song
(Livingstone & Russo, 2018), speech audio part.

1440 North American English utterances by 24 actors (12 female, 12 male),
60 each: 2 statements x 2 repetitions x (neutral at normal intensity, and
7 emotions at normal and strong intensity). File names such as
``03-01-05-01-02-01-12.wav`` code 7 fields: modality (03 audio-only),
vocal channel (01 speech), emotion (01 neutral, 02 calm, 03 happiness,
04 sadness, 05 anger, 06 fear, 07 disgust, 08 surprise), intensity
(01 normal, 02 strong), statement (01 "Kids are talking by the door",
02 "Dogs are sitting by the door"), repetition (01, 02) and actor (01-24;
odd male, even female). Counts: 96 neutral, 192 of each other emotion.
Expected layout: ``<data_home>/ravdess/Actor_01/03-01-01-01-01-01-01.wav``
(WAV as distributed, or FLAC with the same names).

Licence: CC BY-NC-SA 4.0. Cite: S. R. Livingstone and F. A. Russo, "The
Ryerson Audio-Visual Database of Emotional Speech and Song (RAVDESS): A
dynamic, multimodal set of facial and vocal expressions in North American
English", PLoS ONE 13(5): e0196391, 2018.
"""

_EMOVO_DESCR = """\
EMOVO, an Italian emotional speech database (Costantini et al., 2014).

588 Italian utterances by 6 actors (f1, f2, f3 female; m1, m2, m3 male),
each speaking 14 sentences (the ``sentence`` field: b1-b3, d1-d2, l1-l4,
n1-n5) in 7 emotions, 84 utterances per emotion. File names such as
``dis-f1-b1.wav`` code emotion (dis disgust, gio joy -> happiness,
pau fear, rab anger, sor surprise, tri sadness, neu neutral), speaker and
sentence. Expected layout: ``<data_home>/emovo/f1/dis-f1-b1.wav`` (WAV as
distributed, or FLAC with the same names); other folders are ignored.

Licence: distributed by its authors for research use; check the terms of
your copy and cite: G. Costantini, I. Iaderola, A. Paoloni and M. Todisco,
"EMOVO Corpus: an Italian Emotional Speech Database", Proc. LREC 2014,
pp. 3501-3504.
"""


def load_emodb(data_home=None):
    """Load EMO-DB, the Berlin Database of Emotional Speech.

    Parameters
    ----------
    data_home : str or path-like, default=None
        Folder holding ``emodb/wav/*.wav``; None uses ``SKPATHNET_DATA``.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        filenames : ndarray of str, shape (n_files,)
            Paths of the audio files, sorted; n_files is 535 for the full corpus.
        target : ndarray of str, shape (n_files,)
            Emotion, one of :data:`EMODB_EMOTIONS`' values.
        groups : ndarray of str, shape (n_files,)
            Speaker id, e.g. ``"03"``.
        text : ndarray of str, shape (n_files,)
            Sentence code, e.g. ``"a01"``.
        target_names : ndarray of str
            Sorted unique emotions.
        DESCR : str
            Corpus description, label codes, licence and citation.

    Raises
    ------
    FileNotFoundError
        If ``emodb/`` or ``emodb/wav/`` is missing or holds no audio file.
    ValueError
        If a file name in ``emodb/wav/`` does not follow the EMO-DB pattern
        (e.g. ``03a01Fa.wav``) or has an unknown emotion code.

    References
    ----------
    .. [1] F. Burkhardt et al., "A Database of German Emotional Speech",
       Proc. Interspeech, 2005.
    """
    folder = corpus_dir("emodb", data_home) / "wav"
    if not folder.is_dir():
        raise FileNotFoundError(
            f"EMO-DB folder {str(folder)!r} not found: put the 'wav' folder of "
            f"the official download there (e.g. emodb/wav/03a01Fa.wav)."
        )
    files = _list_files(folder.iterdir(), folder, "emodb/wav/03a01Fa.wav")
    filenames, target, groups, text = [], [], [], []
    for path in files:
        match = _match(_EMODB_NAME, path, "<speaker:2 digits><sentence:a01><emotion><version>.wav")
        speaker, sentence, code, _ = match.groups()
        filenames.append(path)
        target.append(_lookup(EMODB_EMOTIONS, code, path, "emotion code", "6th character"))
        groups.append(speaker)
        text.append(sentence)
    return make_bunch(filenames, target, groups, _EMODB_DESCR, text=np.asarray(text, dtype=str))


def load_ravdess(data_home=None):
    """Load the speech audio of RAVDESS.

    Parameters
    ----------
    data_home : str or path-like, default=None
        Folder holding ``ravdess/Actor_XX/*.wav`` (or ``.flac``); None uses
        ``SKPATHNET_DATA``.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        filenames : ndarray of str, shape (n_files,)
            Paths of the audio files, sorted; n_files is 1440 for the full corpus.
        target : ndarray of str, shape (n_files,)
            Emotion, one of :data:`RAVDESS_EMOTIONS`' values.
        groups : ndarray of str, shape (n_files,)
            Actor id, ``"01"`` to ``"24"``.
        intensity : ndarray of str, shape (n_files,)
            ``"normal"`` or ``"strong"``.
        gender : ndarray of str, shape (n_files,)
            ``"male"`` (odd actor ids) or ``"female"`` (even).
        statement : ndarray of str, shape (n_files,)
            The sentence spoken (see :data:`RAVDESS_STATEMENTS`).
        repetition : ndarray of int, shape (n_files,)
            1 or 2.
        target_names : ndarray of str
            Sorted unique emotions.
        DESCR : str
            Corpus description, label codes, licence and citation.

    Raises
    ------
    FileNotFoundError
        If ``ravdess/`` is missing or holds no ``Actor_*`` audio file.
    ValueError
        If a file name does not follow the RAVDESS pattern
        (``03-01-05-01-02-01-12.wav``), has an unknown code, is a song
        (vocal channel 02) or sits in another actor's folder.

    References
    ----------
    .. [1] S. R. Livingstone and F. A. Russo, "The Ryerson Audio-Visual
       Database of Emotional Speech and Song (RAVDESS)", PLoS ONE, 2018.
    """
    root = corpus_dir("ravdess", data_home)
    files = _list_files(root.glob("Actor_*/*"), root, "ravdess/Actor_01/03-01-01-01-01-01-01.wav")
    columns = {key: [] for key in ("target", "groups", "intensity", "gender", "statement")}
    repetition = []
    for path in files:
        match = _match(
            _RAVDESS_NAME,
            path,
            "<modality>-<channel>-<emotion>-<intensity>-<statement>-<repetition>-<actor>.wav",
        )
        _, channel, emotion, intensity, statement, rep, actor = match.groups()
        if channel != "01":
            raise ValueError(
                f"File {str(path)!r} has vocal channel {channel} (song); load_ravdess "
                f"reads the speech part (channel 01) only: move song files elsewhere."
            )
        if path.parent.name != f"Actor_{actor}":
            raise ValueError(
                f"File {str(path)!r} names actor {actor} but sits in folder "
                f"{path.parent.name!r}; move it to Actor_{actor}."
            )
        if rep not in ("01", "02") or not 1 <= int(actor) <= 24:
            raise ValueError(
                f"File {str(path)!r} has repetition {rep!r} / actor {actor!r}; "
                f"RAVDESS has repetitions 01-02 and actors 01-24."
            )
        columns["target"].append(
            _lookup(RAVDESS_EMOTIONS, emotion, path, "emotion code", "3rd field")
        )
        columns["groups"].append(actor)
        columns["intensity"].append(
            _lookup(RAVDESS_INTENSITIES, intensity, path, "intensity code", "4th field")
        )
        columns["gender"].append("male" if int(actor) % 2 else "female")
        columns["statement"].append(
            _lookup(RAVDESS_STATEMENTS, statement, path, "statement code", "5th field")
        )
        repetition.append(int(rep))
    return make_bunch(
        files,
        columns["target"],
        columns["groups"],
        _RAVDESS_DESCR,
        intensity=np.asarray(columns["intensity"], dtype=str),
        gender=np.asarray(columns["gender"], dtype=str),
        statement=np.asarray(columns["statement"], dtype=str),
        repetition=np.asarray(repetition, dtype=np.int64),
    )


def load_emovo(data_home=None):
    """Load EMOVO, the Italian emotional speech database.

    Parameters
    ----------
    data_home : str or path-like, default=None
        Folder holding ``emovo/<speaker>/*.wav`` (or ``.flac``) with
        speakers ``f1 f2 f3 m1 m2 m3``; None uses ``SKPATHNET_DATA``.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        filenames : ndarray of str, shape (n_files,)
            Paths of the audio files, sorted; n_files is 588 for the full corpus.
        target : ndarray of str, shape (n_files,)
            Emotion, one of :data:`EMOVO_EMOTIONS`' values.
        groups : ndarray of str, shape (n_files,)
            Speaker id, e.g. ``"f1"``.
        sentence : ndarray of str, shape (n_files,)
            Sentence code, e.g. ``"b1"``.
        target_names : ndarray of str
            Sorted unique emotions.
        DESCR : str
            Corpus description, label codes, licence and citation.

    Raises
    ------
    FileNotFoundError
        If ``emovo/`` is missing or its speaker folders hold no audio file.
    ValueError
        If a file in a speaker folder does not follow the EMOVO pattern
        (``dis-f1-b1.wav``), has an unknown emotion prefix, or names another
        speaker than its folder.

    References
    ----------
    .. [1] G. Costantini et al., "EMOVO Corpus: an Italian Emotional Speech
       Database", Proc. LREC, 2014.
    """
    root = corpus_dir("emovo", data_home)
    speaker_dirs = [
        p for p in root.iterdir() if p.is_dir() and re.fullmatch(r"[fm]\d", p.name)
    ]
    candidates = [p for folder in speaker_dirs for p in folder.iterdir()]
    files = _list_files(candidates, root, "emovo/f1/dis-f1-b1.wav")
    filenames, target, groups, sentence = [], [], [], []
    for path in files:
        match = _match(_EMOVO_NAME, path, "<emotion:3 letters>-<speaker>-<sentence>.wav")
        prefix, speaker, code = match.groups()
        if speaker != path.parent.name:
            raise ValueError(
                f"File {str(path)!r} names speaker {speaker!r} but sits in folder "
                f"{path.parent.name!r}; move it to {speaker}/."
            )
        filenames.append(path)
        target.append(_lookup(EMOVO_EMOTIONS, prefix, path, "emotion prefix", "1st field"))
        groups.append(speaker)
        sentence.append(code)
    return make_bunch(
        filenames, target, groups, _EMOVO_DESCR, sentence=np.asarray(sentence, dtype=str)
    )


def _list_files(paths, root, example):
    """Sorted non-hidden files among ``paths``; raise if none is audio."""
    files = sorted(p for p in paths if p.is_file() and not p.name.startswith("."))
    if not any(p.suffix.lower() in AUDIO_SUFFIXES for p in files):
        raise FileNotFoundError(
            f"No audio file (.wav or .flac) found under {str(root)!r}; expected the "
            f"corpus laid out as distributed, e.g. {example}."
        )
    return files


def _match(pattern, path, expected):
    """Match a file name against its corpus pattern or raise naming the file."""
    match = pattern.fullmatch(path.name)
    if match is None:
        raise ValueError(
            f"File {str(path)!r} does not follow the corpus's naming pattern "
            f"{expected}; rename or remove it."
        )
    return match


def _lookup(table, code, path, what, where):
    """Map a code through ``table`` or raise naming the file and the valid codes."""
    try:
        return table[code]
    except KeyError:
        raise ValueError(
            f"File {str(path)!r} has unknown {what} {code!r} ({where}); expected "
            f"one of {sorted(table)}."
        ) from None

