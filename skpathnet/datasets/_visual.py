"""Loaders of the facial and audio-visual emotion corpora: JAFFE, CK+48, SAVEE, eNTERFACE'05.

Each loader reads a corpus folder laid out as the corpus is distributed and
returns file names, labels in the shared vocabulary (:data:`EMOTIONS`) and
subject ids as ``groups``. Which files are read is decided by extension
(documented per loader; hidden files are ignored); a selected file whose name
does not follow the corpus's naming scheme raises a ValueError naming it.
"""

import csv
import re

import numpy as np

from ._base import corpus_dir, get_data_home, make_bunch

__all__ = [
    "JAFFE_CODES",
    "CKPLUS_FOLDERS",
    "CKPLUS_AUS_FILE",
    "SAVEE_CODES",
    "SAVEE_SPEAKERS",
    "ENTERFACE_CODES",
    "ENTERFACE_FOLDERS",
    "load_jaffe",
    "load_ckplus",
    "load_savee",
    "load_enterface",
]

#: JAFFE expression code (``KA.AN1.39.tiff``) -> shared label.
JAFFE_CODES = {
    "AN": "anger",
    "DI": "disgust",
    "FE": "fear",
    "HA": "happiness",
    "NE": "neutral",
    "SA": "sadness",
    "SU": "surprise",
}

#: CK+48 emotion folder -> shared label.
CKPLUS_FOLDERS = {
    "anger": "anger",
    "contempt": "contempt",
    "disgust": "disgust",
    "fear": "fear",
    "happy": "happiness",
    "sadness": "sadness",
    "surprise": "surprise",
}

#: File of the CK+ FACS Action Unit table, relative to the data home (one row
#: per sequence; columns ``sequence`` such as ``S010_004`` and ``aus``, the
#: space-separated AU numbers coded at the peak frame, Lucey et al. 2010).
CKPLUS_AUS_FILE = "ckplus48_aus.csv"

#: SAVEE file-name prefix (``a01.wav``, ``sa1.avi``) -> shared label.
SAVEE_CODES = {
    "a": "anger",
    "d": "disgust",
    "f": "fear",
    "h": "happiness",
    "n": "neutral",
    "sa": "sadness",
    "su": "surprise",
}

#: The four SAVEE speakers (speaker folders).
SAVEE_SPEAKERS = ("DC", "JE", "JK", "KL")

#: eNTERFACE'05 file-name emotion code (``s1_an_1.avi``) -> shared label.
ENTERFACE_CODES = {
    "an": "anger",
    "di": "disgust",
    "fe": "fear",
    "ha": "happiness",
    "sa": "sadness",
    "su": "surprise",
}

#: eNTERFACE'05 emotion folder (matched case-insensitively) -> shared label.
ENTERFACE_FOLDERS = {
    "anger": "anger",
    "disgust": "disgust",
    "fear": "fear",
    "happiness": "happiness",
    "happy": "happiness",
    "sadness": "sadness",
    "surprise": "surprise",
}

_JAFFE_NAME = re.compile(r"^([A-Z]{2})\.([A-Z]{2})(\d+)\.(\d+)\.tiff?$", re.IGNORECASE)
_CKPLUS_NAME = re.compile(r"^((S\d{3})_(\d{3}))_(\d{8})\.png$", re.IGNORECASE)
_SAVEE_NAME = re.compile(r"^(sa|su|a|d|f|h|n)(\d+)\.(wav|avi)$", re.IGNORECASE)
_ENTERFACE_SUBJECT = re.compile(r"^subject[ _-]?(\d+)$", re.IGNORECASE)
# s1_an_1.avi, plus the corpus's own slips: s_3_an_1.avi (subject 3),
# s16_su_3avi.avi (subject 16); the subject number of the name is not used
# (the files of subject 11 are named s12_*).
_ENTERFACE_NAME = re.compile(r"^s_?(\d+)_([a-z]{2})_(\d+)(?:avi)?\.(avi|wav)$", re.IGNORECASE)


def _files(root, extensions):
    """Sorted non-hidden files under ``root`` whose suffix is in ``extensions``."""
    return sorted(
        (
            path
            for path in root.rglob("*")
            if path.is_file()
            and path.suffix.lower() in extensions
            and not any(part.startswith(".") for part in path.relative_to(root).parts)
        ),
        key=str,
    )


def _bad_name(path, expected):
    return ValueError(
        f"File {str(path)!r} does not follow the corpus's naming scheme "
        f"({expected}); rename or remove it."
    )


def _check_nonempty(files, root, what):
    if not files:
        raise FileNotFoundError(
            f"No {what} found under {str(root)!r}; check that the corpus is "
            "unpacked there with its original layout."
        )


def load_jaffe(data_home=None):
    """Load the file names, labels and subjects of the JAFFE face images.

    Reads every ``*.tiff`` / ``*.tif`` file of ``<data_home>/jaffe/`` (the
    flat layout of the distribution, e.g. ``jaffe/KA.AN1.39.tiff``): the
    first two letters are the subject, the next two the expression (see
    :data:`JAFFE_CODES`).

    Parameters
    ----------
    data_home : str or path-like, default=None
        Folder holding ``jaffe/``; None reads the ``SKPATHNET_DATA``
        environment variable.

    Returns
    -------
    data : Bunch
        ``filenames`` (ndarray of str, shape (213,) for the full corpus,
        sorted), ``target`` (labels in the shared vocabulary), ``groups``
        (subject ids such as ``"KA"``), ``target_names`` and ``DESCR``.

    Raises
    ------
    FileNotFoundError
        If ``<data_home>/jaffe`` is missing or holds no TIFF file.
    ValueError
        If a TIFF file's name does not follow ``XX.CCn.k.tiff``.

    References
    ----------
    .. [1] M. J. Lyons, S. Akamatsu, M. Kamachi and J. Gyoba, "Coding facial
       expressions with Gabor wavelets", FG, 1998.
    """
    root = corpus_dir("jaffe", data_home)
    files = _files(root, {".tiff", ".tif"})
    _check_nonempty(files, root, "JAFFE .tiff images")
    target, groups = [], []
    for path in files:
        match = _JAFFE_NAME.match(path.name)
        code = match and match.group(2).upper()
        if code not in JAFFE_CODES or path.parent != root:
            raise _bad_name(
                path, f"jaffe/<subject>.<code><n>.<id>.tiff, codes {sorted(JAFFE_CODES)}"
            )
        target.append(JAFFE_CODES[code])
        groups.append(match.group(1).upper())
    return make_bunch(files, target, groups, _JAFFE_DESCR)


def load_ckplus(data_home=None, *, aus=False):
    """Load the file names, labels, subjects and sequences of the CK+48 crops.

    Reads every ``*.png`` file of ``<data_home>/ckplus48/<emotion>/`` (the
    widely shared "CK+48" layout, e.g.
    ``ckplus48/anger/S010_004_00000017.png``): the folder is the emotion (see
    :data:`CKPLUS_FOLDERS`), ``S010`` the subject and ``S010_004`` the
    sequence.

    With ``aus=True``, the FACS Action Units of each sequence are read from
    ``<data_home>/ckplus48_aus.csv`` (:data:`CKPLUS_AUS_FILE`: columns
    ``sequence`` and ``aus``, the space-separated AU numbers, e.g.
    ``S010_004,...,4 7 17 23 24``) and joined on the sequence id; the three
    frames of a sequence share its AUs, coded at its peak frame. Only AU
    presence is read (no intensities).

    Parameters
    ----------
    data_home : str or path-like, default=None
        Folder holding ``ckplus48/`` (and, for ``aus``, ``ckplus48_aus.csv``);
        None reads ``SKPATHNET_DATA``.
    aus : bool, default=False
        Also return the AU indicator matrix.

    Returns
    -------
    data : Bunch
        ``filenames`` (sorted), ``target``, ``groups`` (subject ids such as
        ``"S010"``), ``target_names``, ``DESCR`` and ``sequence`` (ndarray
        of str such as ``"S010_004"``: the 3 frames of a sequence are nearly
        identical, so group by subject or sequence when splitting). With
        ``aus=True`` also ``aus`` (ndarray of shape (n_files, n_aus), int8,
        1 where the AU is coded in the file's sequence; 24 AUs for the
        full table) and ``au_names`` (ndarray of str of shape (n_aus,),
        ``"AU01"``, ``"AU02"``, ... ``"AU28"``, sorted by AU number: the AUs
        that occur in the table).

    Raises
    ------
    FileNotFoundError
        If ``<data_home>/ckplus48`` is missing or holds no PNG file, or with
        ``aus=True`` if ``<data_home>/ckplus48_aus.csv`` is missing.
    ValueError
        If a PNG file is not in an emotion folder or its name does not follow
        ``Sxxx_yyy_zzzzzzzz.png``; with ``aus=True``, if the AU table lacks
        the ``sequence`` or ``aus`` column, holds a token that is not an AU
        number, or has no row for some sequences (they are named).

    References
    ----------
    .. [1] P. Lucey, J. F. Cohn, T. Kanade, J. Saragih, Z. Ambadar and
       I. Matthews, "The Extended Cohn-Kanade Dataset (CK+)", CVPR
       Workshops, 2010.
    """
    root = corpus_dir("ckplus48", data_home)
    files = _files(root, {".png"})
    _check_nonempty(files, root, "CK+48 .png images")
    target, groups, sequence = [], [], []
    for path in files:
        parts = path.relative_to(root).parts
        match = _CKPLUS_NAME.match(path.name)
        if len(parts) != 2 or parts[0] not in CKPLUS_FOLDERS or not match:
            raise _bad_name(
                path,
                "ckplus48/<emotion>/Sxxx_yyy_zzzzzzzz.png, emotion folders "
                f"{sorted(CKPLUS_FOLDERS)}",
            )
        target.append(CKPLUS_FOLDERS[parts[0]])
        groups.append(match.group(2).upper())
        sequence.append(match.group(1).upper())
    sequence = np.asarray(sequence)
    extra = {}
    if aus:
        extra["aus"], extra["au_names"] = _ckplus_aus(get_data_home(data_home), sequence)
    return make_bunch(files, target, groups, _CKPLUS_DESCR, sequence=sequence, **extra)


def _ckplus_aus(home, sequence):
    """AU indicator matrix (n_files, n_aus) int8 and AU names of the CK+ sequences."""
    path = home / CKPLUS_AUS_FILE
    if not path.is_file():
        raise FileNotFoundError(
            f"CK+ Action Unit table {str(path)!r} not found. Put the FACS table of the CK+ "
            f"sequences there (a CSV with columns 'sequence', e.g. S010_004, and 'aus', the "
            f"space-separated AU numbers), or call load_ckplus(aus=False)."
        )
    table = {}
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = {"sequence", "aus"} - set(reader.fieldnames or ())
        if missing:
            raise ValueError(
                f"CK+ Action Unit table {str(path)!r} has no column {sorted(missing)}; it "
                f"needs 'sequence' and 'aus' (found {reader.fieldnames})."
            )
        for line, row in enumerate(reader, start=2):
            tokens = (row["aus"] or "").split()
            if not all(t.isdigit() for t in tokens):
                raise ValueError(
                    f"{str(path)!r}, line {line} ({row['sequence']}): AU list {row['aus']!r} "
                    "must be space-separated AU numbers such as '4 7 17'; fix that row."
                )
            table[row["sequence"].strip().upper()] = {int(t) for t in tokens}
    absent = sorted(set(sequence) - set(table))
    if absent:
        shown = ", ".join(absent[:10]) + (f" and {len(absent) - 10} more" if len(absent) > 10
                                          else "")
        raise ValueError(
            f"{len(absent)} CK+48 sequences have no row in the Action Unit table "
            f"{str(path)!r}: {shown}. Add their AUs to the table or remove their images."
        )
    numbers = sorted(set().union(*table.values()))
    column = {n: k for k, n in enumerate(numbers)}
    out = np.zeros((len(sequence), len(numbers)), dtype=np.int8)
    for i, seq in enumerate(sequence):
        out[i, [column[n] for n in table[seq]]] = 1
    return out, np.asarray([f"AU{n:02d}" for n in numbers])


def _check_modality(modality):
    if modality not in ("audio", "visual"):
        raise ValueError(f"modality must be 'audio' or 'visual'; got {modality!r}.")


def load_savee(data_home=None, *, modality="audio"):
    """Load the file names, labels and speakers of SAVEE.

    Layout of the distribution (one folder per speaker DC, JE, JK, KL):

    - ``modality="audio"``: ``<data_home>/savee/AudioData/DC/a01.wav``,
      every ``*.wav`` file;
    - ``modality="visual"``: ``<data_home>/savee/AudioVisualClip/DC/a1.avi``
      (the audio-visual clips, for :class:`~skpathnet.transformers.FaceCropper`),
      every ``*.avi`` file.

    The name prefix is the emotion (see :data:`SAVEE_CODES`), the number the
    sentence. Other files of the distribution (frame images, annotations)
    are not read.

    Parameters
    ----------
    data_home : str or path-like, default=None
        Folder holding ``savee/``; None reads ``SKPATHNET_DATA``.
    modality : {"audio", "visual"}, default="audio"
        Which recordings to list.

    Returns
    -------
    data : Bunch
        ``filenames`` (sorted; 480 for the full corpus), ``target``,
        ``groups`` (speaker ids), ``target_names``, ``DESCR`` and
        ``sentence`` (ndarray of int, the sentence number within its
        emotion).

    Raises
    ------
    FileNotFoundError
        If the corpus or modality folder is missing or holds no recording.
    ValueError
        If ``modality`` is invalid, or a recording is not in a speaker folder
        or its name does not follow ``<code><n>.wav`` / ``<code><n>.avi``.

    References
    ----------
    .. [1] S. Haq and P. J. B. Jackson, "Speaker-dependent audio-visual
       emotion recognition", AVSP, 2009.
    """
    _check_modality(modality)
    sub, ext = ("AudioData", ".wav") if modality == "audio" else ("AudioVisualClip", ".avi")
    root = corpus_dir("savee", data_home) / sub
    if not root.is_dir():
        raise FileNotFoundError(
            f"SAVEE {modality} folder {str(root)!r} not found; unpack the "
            f"corpus's {sub} archive there."
        )
    files = _files(root, {ext})
    _check_nonempty(files, root, f"SAVEE {ext} recordings")
    target, groups, sentence = [], [], []
    for path in files:
        parts = path.relative_to(root).parts
        match = _SAVEE_NAME.match(path.name)
        if len(parts) != 2 or parts[0] not in SAVEE_SPEAKERS or not match:
            raise _bad_name(
                path,
                f"savee/{sub}/<speaker>/<code><n>{ext}, speakers {SAVEE_SPEAKERS}, "
                f"codes {sorted(SAVEE_CODES)}",
            )
        target.append(SAVEE_CODES[match.group(1).lower()])
        groups.append(parts[0])
        sentence.append(int(match.group(2)))
    return make_bunch(files, target, groups, _SAVEE_DESCR, sentence=np.asarray(sentence))


def load_enterface(data_home=None, *, modality="audio"):
    """Load the file names, labels and subjects of eNTERFACE'05.

    Layout of the distribution:
    ``<data_home>/enterface/subject 1/anger/sentence 1/s1_an_1.avi``. The
    subject is taken from the ``subject N`` folder (also ``subject-N``,
    ``subject_N``), the emotion from the emotion folder below it (see
    :data:`ENTERFACE_FOLDERS`; ``happy`` is accepted for ``happiness``,
    case is ignored). Files may sit at any depth below the emotion folder,
    since some subjects have no ``sentence N`` level. The file name must be
    ``s<N>_<code>_<k>.avi`` with an emotion code (:data:`ENTERFACE_CODES`)
    matching the folder; the corpus's own slips ``s_3_an_1.avi`` and
    ``s16_su_3avi.avi`` are accepted, and the subject number of the name is
    ignored (subject 11's files are named ``s12_*``).

    - ``modality="visual"``: every ``*.avi`` file.
    - ``modality="audio"``: the same recordings, each as the ``.wav`` file
      with the same stem in the same folder when there is one (extract it
      with e.g. ``ffmpeg -i s1_an_1.avi -ac 1 s1_an_1.wav``), else as the
      ``.avi`` itself (libsndfile, used by
      :class:`~skpathnet.transformers.LogMelSegmenter`, cannot read AVI:
      extract the audio first). A ``.wav`` without an ``.avi`` beside it is
      listed too.

    Some studies drop subject 6; this loader lists every subject present.

    Parameters
    ----------
    data_home : str or path-like, default=None
        Folder holding ``enterface/``; None reads ``SKPATHNET_DATA``.
    modality : {"audio", "visual"}, default="audio"
        Which files to list for each recording.

    Returns
    -------
    data : Bunch
        ``filenames`` (sorted), ``target``, ``groups`` (subject ids
        ``"s1"``, ``"s2"``, ... from the folders), ``target_names``,
        ``DESCR`` and ``sentence`` (ndarray of int, the last number of the
        file name).

    Raises
    ------
    FileNotFoundError
        If ``<data_home>/enterface`` is missing or holds no recording.
    ValueError
        If ``modality`` is invalid, or a recording is not under
        ``subject N/<emotion>/``, its name does not follow
        ``s<N>_<code>_<k>.avi`` or its code disagrees with its folder.

    References
    ----------
    .. [1] O. Martin, I. Kotsia, B. Macq and I. Pitas, "The eNTERFACE'05
       audio-visual emotion database", ICDE Workshops, 2006.
    """
    _check_modality(modality)
    root = corpus_dir("enterface", data_home)
    videos = _files(root, {".avi"})
    if modality == "visual":
        files = videos
    else:
        wavs = {path.with_suffix(""): path for path in _files(root, {".wav"})}
        stems = {path.with_suffix("") for path in videos}
        files = [wavs.get(path.with_suffix(""), path) for path in videos]
        files += [path for stem, path in wavs.items() if stem not in stems]
        files.sort(key=str)
    _check_nonempty(files, root, f"eNTERFACE'05 {modality} recordings (.avi or .wav)")
    target, groups, sentence = [], [], []
    for path in files:
        parts = path.relative_to(root).parts
        subject = _ENTERFACE_SUBJECT.match(parts[0]) if len(parts) >= 3 else None
        folder = ENTERFACE_FOLDERS.get(parts[1].lower()) if subject else None
        match = _ENTERFACE_NAME.match(path.name)
        code = ENTERFACE_CODES.get(match.group(2).lower()) if match else None
        if folder is None or code is None:
            raise _bad_name(
                path,
                "enterface/subject <N>/<emotion>/[sentence <k>/]s<N>_<code>_<k>.avi, "
                f"emotion folders {sorted(ENTERFACE_FOLDERS)}, codes {sorted(ENTERFACE_CODES)}",
            )
        if code != folder:
            raise ValueError(
                f"File {str(path)!r} is named as {code!r} but sits in the "
                f"{parts[1]!r} folder; move it to the folder of its emotion."
            )
        target.append(folder)
        groups.append(f"s{int(subject.group(1))}")
        sentence.append(int(match.group(3)))
    return make_bunch(files, target, groups, _ENTERFACE_DESCR, sentence=np.asarray(sentence))


_JAFFE_DESCR = """\
JAFFE: the Japanese Female Facial Expression database (Lyons, Akamatsu,
Kamachi & Gyoba, "Coding facial expressions with Gabor wavelets", FG 1998).
213 uncropped 256x256 grayscale TIFF images (some palette TIFFs, which
cv2.IMREAD_COLOR reads) of 10 Japanese women posing 7 expressions; for
research use only, not redistributable (licence from the authors, see
https://zenodo.org/record/3451524). File names XX.CCn.k.tiff: XX subject (KA,
KL, KM, KR, MK, NA, NM, TM, UY, YM, the groups), CC expression: AN anger, DI
disgust, FE fear, HA happiness, NE neutral, SA sadness, SU surprise; n the
repetition, k the image id. Counts: AN 30, DI 29, FE 32, HA 31, NE 30, SA 31,
SU 30.
"""

_CKPLUS_DESCR = """\
CK+48: 48x48 grayscale face crops of the Extended Cohn-Kanade dataset (Lucey,
Cohn, Kanade, Saragih, Ambadar & Matthews, "The Extended Cohn-Kanade Dataset
(CK+)", CVPR Workshops 2010), as widely shared: the last 3 frames of each
labelled sequence, 981 images of 118 subjects; for non-commercial research
use only under the CK+ agreement. Layout ckplus48/<emotion>/Sxxx_yyy_zzzzzzzz.png:
folder anger, contempt, disgust, fear, happy (happiness), sadness, surprise;
Sxxx the subject (the groups), Sxxx_yyy the sequence (the `sequence` field),
zzzzzzzz the frame. Counts: anger 135, contempt 54, disgust 177, fear 75,
happiness 207, sadness 84, surprise 249. The images are already face crops:
a face detector needs a small min_size on them.
"""

_SAVEE_DESCR = """\
SAVEE: Surrey Audio-Visual Expressed Emotion database (Haq & Jackson,
"Speaker-dependent audio-visual emotion recognition", AVSP 2009). 4 male
British English speakers (DC, JE, JK, KL, the groups), 120 utterances each
(480 in all): 15 TIMIT sentences for each of anger, disgust, fear,
happiness, sadness, surprise and 30 neutral; free for research use after
registration with the University of Surrey, not redistributable. Audio in
AudioData/<speaker>/<code><nn>.wav, audio-visual clips in
AudioVisualClip/<speaker>/<code><n>.avi; codes a anger, d disgust, f fear,
h happiness, n neutral, sa sadness, su surprise.
"""

_ENTERFACE_DESCR = """\
eNTERFACE'05 audio-visual emotion database (Martin, Kotsia, Macq & Pitas,
"The eNTERFACE'05 audio-visual emotion database", ICDE Workshops 2006). About
1,290 AVI clips (720x576, 25 fps, with 48 kHz audio) of 42+ subjects from 14
nationalities reacting in English to scenarios eliciting anger, disgust,
fear, happiness, sadness and surprise (5 sentences each); free for research
use. Layout subject <N>/<emotion>/sentence <k>/s<N>_<code>_<k>.avi (some
subjects without the sentence level); codes an anger, di disgust, fe fear,
ha happiness, sa sadness, su surprise. Subjects (the groups, "s<N>") come from
the folder names.
"""
