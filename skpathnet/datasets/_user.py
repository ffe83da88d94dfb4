"""Loaders of users' own emotion corpora: a folder tree or a manifest (CSV / DataFrame).

Both loaders return the same :class:`~sklearn.utils.Bunch` as the built-in
corpus loaders (``filenames``, ``target``, ``groups``, ``target_names``,
``DESCR``) plus ``modality``, so that a user's corpus can be the source or
target of a transfer like any built-in one. Files are listed, never decoded.

Labels are mapped into the shared vocabulary
:data:`~skpathnet.datasets.EMOTIONS` with :data:`DEFAULT_LABEL_MAP`, on top
of which a user's ``label_map`` is applied; a label neither map knows raises
(pass ``label_map=`` or ``keep_labels=True``) rather than being dropped.
"""

import codecs
import csv
import fnmatch
import io
import os
import re
import sys
import warnings
from collections import Counter
from pathlib import Path, PurePath
from types import MappingProxyType

import numpy as np

from ._base import EMOTIONS, make_bunch

__all__ = [
    "AUDIO_EXTENSIONS",
    "DEFAULT_LABEL_MAP",
    "VISUAL_EXTENSIONS",
    "load_folder",
    "load_manifest",
]

#: File extensions read as audio recordings (matched case-insensitively).
AUDIO_EXTENSIONS = (".aif", ".aiff", ".flac", ".m4a", ".mp3", ".ogg", ".wav")

#: File extensions read as images or video clips (matched case-insensitively).
VISUAL_EXTENSIONS = (
    ".avi",
    ".bmp",
    ".jpeg",
    ".jpg",
    ".mkv",
    ".mov",
    ".mp4",
    ".pgm",
    ".png",
    ".tif",
    ".tiff",
)

_ALIASES = {
    "anger": (
        "angry", "ang", "wut", "ärger", "aerger", "wütend", "wuetend", "rabbia", "rab",
    ),
    "boredom": ("bored", "langeweile", "gelangweilt", "noia"),
    "calm": ("ruhig", "calma"),
    "contempt": ("contemptuous", "verachtung", "disprezzo"),
    "disgust": ("disgusted", "dis", "ekel", "disgusto"),
    "fear": ("fearful", "afraid", "scared", "fea", "angst", "paura", "pau"),
    "happiness": (
        "happy", "joy", "hap", "freude", "glück", "glueck", "gioia", "gio", "felicità",
    ),
    "neutral": ("neu", "neutrale", "neutro"),
    "sadness": ("sad", "sa", "trauer", "traurig", "tristezza", "tri"),
    "surprise": (
        "surprised", "su", "sur", "pleasant_surprise", "pleasant_surprised", "ps",
        "überraschung", "ueberraschung", "sorpresa", "sor",
    ),
}  # fmt: skip

#: Default map from a corpus's own label (lower-cased, surrounding whitespace
#: stripped, inner runs of spaces and hyphens read as ``_``) to the shared
#: vocabulary :data:`~skpathnet.datasets.EMOTIONS`: every EMOTIONS entry maps
#: to itself, plus common English adjectives and 2-3 letter codes (IEMOCAP,
#: CREMA-D, SAVEE, TESS) and German / Italian words and codes (EMO-DB,
#: EMOVO). TESS's "pleasant surprise" (``ps``) maps to ``surprise``. Single
#: letter codes (EMO-DB's ``W``, ``A``, ...) are ambiguous across corpora and
#: deliberately not mapped: pass them in ``label_map=``.
DEFAULT_LABEL_MAP = MappingProxyType(
    {
        **{emotion: emotion for emotion in EMOTIONS},
        **{alias: emotion for emotion, aliases in _ALIASES.items() for alias in aliases},
    }
)

_MODALITY_EXTENSIONS = {"audio": AUDIO_EXTENSIONS, "visual": VISUAL_EXTENSIONS}
_N_SHOWN = 5  # how many offending items an error or warning lists


# --------------------------------------------------------------------------- labels


def _normalise(label):
    """Key under which a label is looked up in the label maps."""
    return re.sub(r"[\s\-]+", "_", str(label).strip().lower())


def _label_table(label_map, keep_labels):
    """The effective lookup table: the default map (unless keep_labels) and the user's."""
    table = {} if keep_labels else dict(DEFAULT_LABEL_MAP)
    if label_map is None:
        return table
    if not hasattr(label_map, "items"):
        raise TypeError(
            f"label_map must be a dict from the corpus's labels to emotions; "
            f"got {type(label_map).__name__}."
        )
    user = {}
    for key, value in label_map.items():
        norm = _normalise(key)
        if norm in user and user[norm] != str(value):
            raise ValueError(
                f"label_map maps {norm!r} (keys compare case-insensitively) to both "
                f"{user[norm]!r} and {str(value)!r}; keep one entry."
            )
        user[norm] = str(value)
    if not keep_labels:
        bad = sorted({value for value in user.values() if value not in EMOTIONS})
        if bad:
            raise ValueError(
                f"label_map values {bad} are not in the shared vocabulary {EMOTIONS}; "
                f"map onto those names, or pass keep_labels=True to keep labels "
                f"outside the vocabulary."
            )
    table.update(user)
    return table


def _map_labels(labels, label_map, keep_labels):
    """Map raw labels into EMOTIONS (or keep them), raising on unknown labels.

    With ``keep_labels``, spellings of one label that differ only in case,
    surrounding whitespace or spaces / hyphens / underscores (``angry`` and
    ``Angry``) are one class, written as the first spelling met (in file
    order), with a :class:`UserWarning` naming the merged spellings.
    """
    table = _label_table(label_map, keep_labels)
    if keep_labels:
        first, spellings = {}, {}
        for label in labels:
            key = _normalise(label)
            first.setdefault(key, label)
            spellings.setdefault(key, Counter())[label] += 1
        merged = {key: n for key, n in spellings.items() if len(n) > 1 and key not in table}
        if merged:
            listed = "; ".join(
                " + ".join(f"{label!r} ({c} file{'s' if c > 1 else ''})" for label, c in n.items())
                + f" -> {first[key]!r}" for key, n in merged.items())
            warnings.warn(
                f"keep_labels=True: labels that differ only in case, surrounding spaces "
                f"or '-'/'_'/' ' are one class, written as the first spelling met: "
                f"{listed}. Pass label_map= to choose the name.",
                UserWarning, stacklevel=3,
            )
        return [table.get(_normalise(label), first[_normalise(label)]) for label in labels]
    unknown = Counter(label for label in labels if _normalise(label) not in table)
    if unknown:
        listed = ", ".join(
            f"{label!r} ({n} file{'s' if n > 1 else ''})" for label, n in sorted(unknown.items())
        )
        labels_are = "1 label is" if len(unknown) == 1 else f"{len(unknown)} labels are"
        raise ValueError(
            f"{labels_are} neither in the default label map nor in "
            f"label_map: {listed}. Pass label_map={{<label>: <emotion>, ...}} mapping "
            f"them onto the shared vocabulary {EMOTIONS}, or keep_labels=True to "
            f"keep the labels as given (command line: --label-map LABEL=EMOTION ... "
            f"or --keep-labels)."
        )
    return [table[_normalise(label)] for label in labels]


# --------------------------------------------------------------------------- Bunch


def _check_modality(modality):
    if modality is not None and modality not in _MODALITY_EXTENSIONS:
        raise ValueError(f"modality must be 'audio', 'visual' or None; got {modality!r}.")


def _modality_of(path, *, sniff=False):
    """``"audio"``, ``"visual"`` or None, from the extension, else (``sniff``) the content."""
    suffix = PurePath(path).suffix.lower()
    for modality, extensions in _MODALITY_EXTENSIONS.items():
        if suffix in extensions:
            return modality
    return _sniff_modality(path) if sniff else None


def _sniff_modality(path):
    """The modality of a file with no known extension, from its first bytes, or None.

    Audio: what libsndfile opens (WAV, FLAC, OGG, AIFF, ...) or an MP3 / M4A
    signature; visual: what OpenCV reads as an image (PNG, JPEG, GIF, TIFF,
    ...) or a video container signature (MP4/MOV ``ftyp``, AVI, Matroska).
    """
    try:
        with open(path, "rb") as f:
            head = f.read(16)
    except OSError:
        return None
    if len(head) < 4:
        return None
    if head[4:8] == b"ftyp":
        return "audio" if head[8:12] in (b"M4A ", b"M4B ") else "visual"
    if (head[:4] == b"RIFF" and head[8:12] == b"AVI ") or head[:4] == b"\x1aE\xdf\xa3":
        return "visual"
    if head[:3] == b"ID3" or head[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2"):
        return "audio"
    import soundfile

    try:
        soundfile.info(os.fspath(path))
        return "audio"
    except Exception:  # libsndfile raises several types on what it cannot read
        pass
    import cv2

    return "visual" if cv2.haveImageReader(os.fspath(path)) else None


def _infer_modality(paths, where):
    """The one modality of ``paths`` (all with a known extension), else raise."""
    kinds = {}
    for path in paths:
        kinds.setdefault(_modality_of(path, sniff=True), []).append(str(path))
    if None in kinds:
        unknown = kinds[None]
        raise ValueError(
            f"Cannot tell the modality of {len(unknown)} files of {where} from their "
            f"extension or content, e.g. {unknown[:_N_SHOWN]}; known extensions are "
            f"{AUDIO_EXTENSIONS} (audio) and {VISUAL_EXTENSIONS} (visual). Pass "
            f"modality='audio' or modality='visual' (command line: --modality)."
        )
    if len(kinds) > 1:
        raise ValueError(
            f"{where} mixes {len(kinds['audio'])} audio files (e.g. "
            f"{kinds['audio'][:2]}) and {len(kinds['visual'])} visual files (e.g. "
            f"{kinds['visual'][:2]}); load one modality at a time: pass "
            f"modality='audio' or modality='visual' (command line: --modality)."
        )
    return next(iter(kinds))


def _describe(loader, source, target, groups, modality, keep_labels, label_map):
    counts = ", ".join(f"{label} {n}" for label, n in sorted(Counter(target).items()))
    if keep_labels:
        labels = "kept as given" + (" (after label_map)" if label_map else "")
    else:
        labels = "mapped into EMOTIONS with DEFAULT_LABEL_MAP" + (
            " and label_map" if label_map else ""
        )
    return (
        f"User {modality} corpus read by {loader} from {source}: {len(target)} "
        f"files, {len(set(groups))} groups; labels {labels}. Counts: {counts}.\n"
    )


def _bunch(filenames, target, groups, descr, keep_labels, **extra):
    """make_bunch, without the vocabulary check when keep_labels."""
    return make_bunch(filenames, target, groups, descr, check_vocabulary=not keep_labels,
                      **extra)


# --------------------------------------------------------------------------- rows


def _deduplicate(filenames, labels, groups, wheres, source):
    """Indices of the rows to keep: one per file, compared by resolved path.

    Rows naming one file (through ``..``, ``~``, a symbolic link or another
    relative path) with the same label and group are kept once, with a
    :class:`UserWarning`; with a different label or group they raise.
    """
    rows = {}
    for i, filename in enumerate(filenames):
        rows.setdefault(os.path.realpath(filename), []).append(i)
    repeated = [found for found in rows.values() if len(found) > 1]
    if not repeated:
        return list(range(len(filenames)))
    conflicts = [found for found in repeated
                 if len({(labels[i], groups[i]) for i in found}) > 1]
    if conflicts:
        listed = "; ".join(
            " vs ".join(f"{wheres[i]} (label {labels[i]!r}, group {groups[i]!r})" for i in found)
            for found in conflicts[:_N_SHOWN])
        raise ValueError(
            f"{len(conflicts)} files are listed more than once in {source} with different "
            f"labels or groups: {listed}{'; ...' if len(conflicts) > _N_SHOWN else ''}. "
            f"A file has one label and one speaker/subject: keep one row of each."
        )
    listed = "; ".join(" = ".join(wheres[i] for i in found) for found in repeated[:_N_SHOWN])
    warnings.warn(
        f"{sum(len(f) - 1 for f in repeated)} rows of {source} repeat a file already "
        f"listed with the same label and group ({listed}"
        f"{'; ...' if len(repeated) > _N_SHOWN else ''}); each file is kept once.",
        UserWarning, stacklevel=3,
    )
    drop = {i for found in repeated for i in found[1:]}
    return [i for i in range(len(filenames)) if i not in drop]


def _check_groups(groups, source, fold_groups):
    """Warn about group ids that differ only in case; fold them if asked.

    Surrounding whitespace is already stripped. With ``fold_groups``, every
    spelling of one id is replaced by the first met (in file order).
    """
    first, spellings = {}, {}
    for group in groups:
        first.setdefault(group.casefold(), group)
        spellings.setdefault(group.casefold(), Counter())[group] += 1
    clashes = {key: n for key, n in spellings.items() if len(n) > 1}
    if not clashes:
        return groups
    listed = "; ".join(" / ".join(f"{g!r} ({c} files)" for g, c in n.items())
                       for n in list(clashes.values())[:_N_SHOWN])
    if fold_groups:
        return [first[group.casefold()] for group in groups]
    warnings.warn(
        f"{len(clashes)} speaker/subject ids of {source} differ only in case: {listed}"
        f"{'; ...' if len(clashes) > _N_SHOWN else ''}. They are kept as different "
        f"speakers, so one person may sit on both sides of a split; pass fold_groups=True "
        f"(command line: --fold-groups) to make each one speaker, or fix the ids.",
        UserWarning, stacklevel=3,
    )
    return groups


# --------------------------------------------------------------------------- manifest


def _is_dataframe(obj):
    pandas = sys.modules.get("pandas")  # a DataFrame implies pandas is imported
    return pandas is not None and isinstance(obj, pandas.DataFrame)


def _decode(path, encoding):
    """The text of manifest ``path``: ``encoding``, else UTF-16 by its BOM, else UTF-8."""
    data = path.read_bytes()
    if encoding is None:
        if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            encoding = "utf-16"
        else:
            encoding = "utf-8-sig"  # UTF-8, with or without its BOM
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise ValueError(
            f"Manifest {str(path)!r} is not valid {exc.encoding} text: byte "
            f"{data[exc.start:exc.start + 1]!r} at offset {exc.start} (line {line}). Save it "
            f"as UTF-8 (UTF-8 and UTF-16 with a byte-order mark are detected), or pass its "
            f"encoding to load_manifest, e.g. encoding='latin-1' or 'cp1252'."
        ) from None
    except LookupError:
        raise ValueError(f"encoding={encoding!r} is not a text encoding Python knows.") from None


def _read_csv(path, encoding=None):
    """Header and rows of a CSV file, each row with its data row and line numbers."""
    if not path.is_file():
        raise FileNotFoundError(
            f"Manifest {str(path)!r} not found; pass the path of a CSV file with "
            f"one row per recording."
        )
    with io.StringIO(_decode(path, encoding), newline="") as f:
        sample = f.readline()
        f.seek(0)
        if not sample.strip():
            raise ValueError(
                f"Manifest {str(path)!r} is empty: its first line must be a header "
                f"naming the columns, e.g. 'file,label,group'."
            )
        delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
        if path.suffix.lower() != ".tsv":
            try:
                delimiter = csv.Sniffer().sniff(sample, delimiters=",;\t").delimiter
            except csv.Error:
                pass
        reader = csv.reader(f, delimiter=delimiter)
        header = [name.strip() for name in next(reader)]
        rows = []
        for fields in reader:
            if not any(field.strip() for field in fields):
                continue  # blank line
            if len(fields) > len(header):
                raise ValueError(
                    f"Row {len(rows) + 1} (line {reader.line_num}) of manifest "
                    f"{str(path)!r} has {len(fields)} fields but the header names "
                    f"{len(header)} columns {header}; quote fields that contain "
                    f"{delimiter!r}."
                )
            fields = fields + [""] * (len(header) - len(fields))
            rows.append((f"row {len(rows) + 1} (line {reader.line_num})", fields))
    return header, rows


def _read_dataframe(frame):
    header = [str(name).strip() for name in frame.columns]
    pandas = sys.modules["pandas"]
    rows = []
    for position, (index, values) in enumerate(
        zip(frame.index, frame.itertuples(index=False, name=None)), start=1
    ):
        fields = ["" if _is_missing(pandas, value) else str(value) for value in values]
        rows.append((f"row {position} (index {index!r})", fields))
    return header, rows


def _is_missing(pandas, value):
    try:
        return bool(pandas.isna(value))
    except (TypeError, ValueError):  # list-like cells
        return False


def load_manifest(
    manifest,
    *,
    file_column="file",
    label_column="label",
    group_column="group",
    label_map=None,
    keep_labels=False,
    modality=None,
    root=None,
    fold_groups=False,
    encoding=None,
):
    """Load a user's corpus listed in a manifest: one row per recording.

    The manifest is a CSV file (read with the :mod:`csv` module; comma,
    semicolon or tab separated, a ``.tsv`` file tab separated; UTF-8 with or
    without BOM, UTF-16 with BOM, or ``encoding``) or a
    :class:`pandas.DataFrame`, with a header naming at least a file, a label
    and a group (speaker or subject) column. Rows keep their manifest
    order. Files are checked to exist but not decoded. Rows naming one file
    (compared by resolved path) are kept once if they agree on label and
    group (with a :class:`UserWarning`), and raise if not. Files whose
    extension is not known are read as audio or visual by their content.

    Parameters
    ----------
    manifest : str, path-like or pandas.DataFrame
        Path of the CSV file, or a DataFrame with the same columns (pandas
        is not a dependency; a DataFrame is recognised when pandas is
        installed).
    file_column : str, default="file"
        Column holding the recordings' paths. Relative paths are resolved
        against ``root``, else the folder of the CSV file, else (for a
        DataFrame) the current directory; ``~`` is expanded.
    label_column : str, default="label"
        Column holding the emotion labels, mapped as ``label_map`` says.
    group_column : str, default="group"
        Column holding the speaker or subject ids (the ``groups`` of
        :class:`~sklearn.model_selection.LeaveOneGroupOut`).
    label_map : dict, default=None
        Map from the manifest's labels to :data:`~skpathnet.datasets.EMOTIONS`,
        applied on top of :data:`DEFAULT_LABEL_MAP` (its entries win). Keys
        compare case-insensitively, ignoring surrounding whitespace, with
        inner spaces and hyphens read as ``_``.
    keep_labels : bool, default=False
        If True, labels are not mapped into the shared vocabulary: they are
        kept as given (surrounding whitespace stripped), except those that
        ``label_map`` renames. Spellings that differ only in case or in
        spaces / hyphens / underscores (``angry`` and ``Angry``) are one
        class, named as the first spelling met, with a :class:`UserWarning`.
    modality : {"audio", "visual"}, default=None
        Kind of the recordings. None infers it from the files' extensions
        (:data:`AUDIO_EXTENSIONS`, :data:`VISUAL_EXTENSIONS`).
    root : str or path-like, default=None
        Folder against which relative paths are resolved, instead of the
        CSV file's folder (or the current directory for a DataFrame).
    fold_groups : bool, default=False
        If True, group ids that differ only in case (``spk03``, ``SPK03``)
        are one speaker, named as the first spelling met; if False they stay
        apart, with a :class:`UserWarning`. Surrounding whitespace is
        always stripped.
    encoding : str, default=None
        Text encoding of the CSV file. None: UTF-16 if it starts with a
        UTF-16 byte-order mark, else UTF-8 (with or without BOM).

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        filenames : ndarray of str, shape (n_files,)
            Paths of the recordings, in manifest order.
        target : ndarray of str, shape (n_files,)
            Emotions, in :data:`~skpathnet.datasets.EMOTIONS` unless
            ``keep_labels=True``.
        groups : ndarray of str, shape (n_files,)
            Speaker or subject ids.
        target_names : ndarray of str, shape (n_classes,)
            Sorted unique labels.
        DESCR : str
            Where the corpus was read from, and its label counts.
        modality : str
            ``"audio"`` or ``"visual"``.
        extra_columns : list of str
            Names of the manifest's other columns, in manifest order; each
            is also a key holding an ndarray of str of shape (n_files,)
            (empty cells as ``""``).

    Raises
    ------
    FileNotFoundError
        If the CSV file, or files it lists, do not exist (the message lists
        the first few missing rows and their count).
    ValueError
        If the manifest is empty or has no data row; lacks the file, label
        or group column (the message names the columns it has) or has an
        other column clashing with a Bunch key; a row has more fields than
        the header or an empty file, label or group cell (the message names
        the rows, by 1-based data row and CSV line); a label is unknown
        (the message lists every unknown label with its count; pass
        ``label_map=`` or ``keep_labels=True``); ``label_map`` maps outside
        the vocabulary without ``keep_labels=True``; ``modality`` is
        invalid; or, with ``modality=None``, a file is neither audio nor
        visual by extension or content, or the files mix audio and visual
        ones; the CSV file is not valid text in its encoding (the message
        names the file, the byte and its line); two rows name one file
        with different labels or groups (the message names the rows).
    TypeError
        If ``manifest`` is neither a path nor a DataFrame.

    Warns
    -----
    UserWarning
        If rows repeat a file with the same label and group (kept once), if
        group ids differ only in case (without ``fold_groups``), or if
        ``keep_labels`` merged spellings of one label.

    See Also
    --------
    load_folder : Load a corpus whose folder and file names carry the labels.

    Examples
    --------
    A manifest ``corpus/manifest.csv`` (paths relative to its folder)::

        file,label,group,sentence
        audio/s01_001.wav,Angry,s01,a01
        audio/s01_002.wav,neutral,s01,a02
        audio/s02_001.wav,hap,s02,a01

    >>> from skpathnet.datasets import load_manifest
    >>> data = load_manifest("corpus/manifest.csv")  # doctest: +SKIP
    >>> data.target  # doctest: +SKIP
    array(['anger', 'neutral', 'happiness'], dtype='<U9')
    >>> data.groups, data.sentence  # doctest: +SKIP
    (array(['s01', 's01', 's02'], dtype='<U3'), array(['a01', 'a02', 'a01'], dtype='<U3'))

    A DataFrame with other column names and a corpus-specific label:

    >>> data = load_manifest(  # doctest: +SKIP
    ...     frame, file_column="path", label_column="emotion",
    ...     group_column="speaker", label_map={"fru": "anger"}, root="/data/mine")
    """
    _check_modality(modality)
    if _is_dataframe(manifest):
        header, rows = _read_dataframe(manifest)
        source = "a DataFrame"
        base = Path(root).expanduser() if root is not None else Path()
    elif isinstance(manifest, (str, os.PathLike)):
        path = Path(manifest).expanduser()
        header, rows = _read_csv(path, encoding)
        source = f"manifest {str(path)!r}"
        base = Path(root).expanduser() if root is not None else path.parent
    else:
        raise TypeError(
            f"manifest must be the path of a CSV file or a pandas DataFrame; got "
            f"{type(manifest).__name__}."
        )

    duplicated = sorted(name for name, n in Counter(header).items() if n > 1)
    if duplicated:
        raise ValueError(
            f"The columns {duplicated} of {source} appear more than once; rename them."
        )
    index = {}
    for param, column in (
        ("file_column", file_column),
        ("label_column", label_column),
        ("group_column", group_column),
    ):
        if column not in header:
            raise ValueError(
                f"{source} has no {column!r} column ({param}); its columns are "
                f"{header}. Pass {param}=<the column's name> to load_manifest (the "
                f"command line reads the columns 'file', 'label' and 'group': rename them)."
            )
        index[param] = header.index(column)
    required = set(index.values())
    extras = [name for i, name in enumerate(header) if i not in required]
    reserved = {"filenames", "target", "groups", "target_names", "DESCR"}
    reserved |= {"modality", "extra_columns"}
    clashing = sorted(set(extras) & reserved)
    if clashing:
        raise ValueError(
            f"The columns {clashing} of {source} clash with keys of the returned "
            f"Bunch {sorted(reserved)}; rename them."
        )
    if not rows:
        raise ValueError(
            f"{source} has a header {header} but no data rows; add one row per recording."
        )

    for param, column in (
        ("file_column", file_column),
        ("label_column", label_column),
        ("group_column", group_column),
    ):
        empty = [where for where, fields in rows if not fields[index[param]].strip()]
        if empty:
            raise ValueError(
                f"{len(empty)} rows of {source} have an empty {column!r} cell: "
                f"{', '.join(empty[:_N_SHOWN])}{', ...' if len(empty) > _N_SHOWN else ''}. "
                f"Fill them in or drop those rows."
            )

    filenames = [
        base / Path(fields[index["file_column"]].strip()).expanduser() for _, fields in rows
    ]
    missing = [
        f"{where}: {str(filename)!r}"
        for (where, _), filename in zip(rows, filenames)
        if not filename.is_file()
    ]
    if missing:
        raise FileNotFoundError(
            f"{len(missing)} of the {len(rows)} files listed in {source} do not exist "
            f"(relative paths resolved against {str(base)!r}): "
            f"{'; '.join(missing[:_N_SHOWN])}{'; ...' if len(missing) > _N_SHOWN else ''}. "
            f"Fix the paths, pass load_manifest's root= to resolve them against another "
            f"folder, or drop those rows."
        )
    if modality is None:
        modality = _infer_modality(filenames, source)

    labels = [fields[index["label_column"]].strip() for _, fields in rows]
    groups = [fields[index["group_column"]].strip() for _, fields in rows]
    target = _map_labels(labels, label_map, keep_labels)
    keep = _deduplicate(filenames, target, groups, [where for where, _ in rows], source)
    rows = [rows[i] for i in keep]
    filenames, target = [filenames[i] for i in keep], [target[i] for i in keep]
    groups = _check_groups([groups[i] for i in keep], source, fold_groups)
    columns = {
        name: np.asarray([fields[header.index(name)] for _, fields in rows], dtype=str)
        for name in extras
    }
    descr = _describe("load_manifest", source, target, groups, modality, keep_labels, label_map)
    return _bunch(
        filenames,
        target,
        groups,
        descr,
        keep_labels,
        modality=modality,
        extra_columns=list(extras),
        **columns,
    )


# --------------------------------------------------------------------------- folder


def _extractor(spec, param):
    """A function ``relative path -> value or None`` and a description of ``spec``."""
    if callable(spec):
        name = getattr(spec, "__name__", type(spec).__name__)
        return spec, f"the {param} callable {name}"
    if isinstance(spec, str):
        try:
            spec = re.compile(spec)
        except re.error as exc:
            raise ValueError(
                f"{param}={spec!r} is not a valid regular expression: {exc}."
            ) from None
    if not isinstance(spec, re.Pattern):
        raise TypeError(
            f"{param} must be a regular expression (str or compiled) or a callable "
            f"taking the relative path; got {type(spec).__name__}."
        )
    if len(spec.groupindex) != 1:
        raise ValueError(
            f"{param}={spec.pattern!r} must have exactly one named group holding the "
            f"{param}, e.g. r'^(?P<{param}>[^/]+)/'; it has {len(spec.groupindex)}."
        )
    (name,) = spec.groupindex

    def extract(relative):
        match = spec.search(relative)
        return None if match is None else match.group(name)

    where = "applied with re.search to the path relative to root"
    return extract, f"the {param} regex {spec.pattern!r} ({where})"


def _extract(extract, what, relatives, param):
    values, failed = [], []
    for relative in relatives:
        try:
            value = extract(relative)
        except Exception as exc:
            raise ValueError(f"{what} failed on {relative!r}: {exc!r}.") from exc
        value = "" if value is None else str(value).strip()
        if not value:
            failed.append(relative)
        values.append(value)
    if failed:
        raise ValueError(
            f"{len(failed)} of the {len(relatives)} files give no {param} with {what}: "
            f"{failed[:_N_SHOWN]}{' ...' if len(failed) > _N_SHOWN else ''}. Fix the "
            f"{param}= expression (command line: --{param}-pattern), or exclude those files "
            f"with load_folder's pattern= or by moving them out of the folder."
        )
    return values


def _walk(root, pattern, modality):
    """Sorted relative POSIX paths of the files to list, and of those skipped.

    Symbolic links to folders are followed (a link to a folder above it is
    not, so a cycle ends: it is listed as broken) and links to files are
    listed like files.
    Files without a known extension are kept when their content is audio or
    visual media (:func:`_sniff_modality`). Skipped paths come in four lists:
    hidden (a part of the path starts with ".", hidden folders are listed
    once and not entered), deliberate (not matching ``pattern``, or of the
    other modality than the one asked for), unsupported (neither audio nor
    visual, by extension or content) and broken (dangling symbolic links,
    links that make a cycle, sockets, ...).
    """
    kept, hidden, deliberate, unsupported, broken = [], [], [], [], []
    for folder, dirs, files in os.walk(root, followlinks=True):
        rel_folder = PurePath(os.path.relpath(folder, root))
        real = os.path.realpath(folder)
        above = [os.path.join(root, *rel_folder.parts[:i]) for i in range(len(rel_folder.parts))]
        if any(os.path.realpath(path) == real for path in above):
            broken.append(rel_folder.as_posix())  # a link to a folder above it: a cycle
            dirs[:] = []
            continue
        for name in sorted(dirs):
            if name.startswith("."):
                hidden.append((rel_folder / name).as_posix())
            elif not os.path.isdir(os.path.join(folder, name)):
                broken.append((rel_folder / name).as_posix())
        dirs[:] = sorted(name for name in dirs
                         if not name.startswith(".") and os.path.isdir(os.path.join(folder, name)))
        for name in files:
            relative = (rel_folder / name).as_posix()
            path = os.path.join(folder, name)
            if name.startswith("."):
                hidden.append(relative)
                continue
            if not os.path.isfile(path):
                broken.append(relative)  # dangling link, socket...
                continue
            kind = _modality_of(path, sniff=True)
            if pattern is not None and not fnmatch.fnmatchcase(relative, pattern):
                deliberate.append(relative)
            elif kind is None:
                unsupported.append(relative)
            elif modality is not None and kind != modality:
                deliberate.append(relative)
            else:
                kept.append(relative)
    skipped = sorted(hidden + deliberate + unsupported + broken)
    return sorted(kept), skipped, sorted(unsupported), sorted(broken)


def load_folder(
    root,
    *,
    label,
    group,
    pattern=None,
    label_map=None,
    keep_labels=False,
    modality=None,
    fold_groups=False,
):
    """Load a user's corpus whose folder and file names carry the labels.

    Every file under ``root`` with an audio (:data:`AUDIO_EXTENSIONS`) or
    visual (:data:`VISUAL_EXTENSIONS`) extension, matched case-insensitively,
    is listed, in sorted order of its path relative to ``root``. Its label
    and group (speaker or subject) are read from that relative POSIX path
    (e.g. ``"s01/angry/001.wav"``) by ``label`` and ``group``. Files are not
    decoded.

    Skipped without a word: hidden files and folders (a name starting with
    ``"."``, so ``.DS_Store`` and AppleDouble ``._*`` files; hidden folders
    are not entered), files not matching ``pattern``, and files of the
    other modality when ``modality`` is given. A file with any other
    extension is listed if its content is audio or visual media (e.g. GIF
    images named ``subject01.happy``), else (``notes.txt``) skipped with a
    :class:`UserWarning` giving their count and first names. Symbolic links
    to folders and files are followed; dangling links (and links to a
    folder above them) are skipped with a :class:`UserWarning`. All
    skipped paths are listed in ``skipped``. Two paths reaching one file
    (through links) are one file if they agree on label and group, and
    raise if not.

    Parameters
    ----------
    root : str or path-like
        Folder holding the corpus.
    label : str, re.Pattern or callable
        How to read the emotion label from the relative path: a regular
        expression with exactly one named group (any name), applied with
        :func:`re.search` (e.g. ``r"^[^/]+/(?P<emotion>[^/]+)/"`` for
        ``<speaker>/<emotion>/001.wav``), or a callable taking the relative
        path (str) and returning the label.
    group : str, re.Pattern or callable
        How to read the speaker or subject id, as ``label``.
    pattern : str, default=None
        Glob that relative paths must match (:func:`fnmatch.fnmatchcase`,
        where ``*`` also matches ``/``), e.g. ``"*/session1/*.wav"``.
    label_map : dict, default=None
        Map from the corpus's labels to :data:`~skpathnet.datasets.EMOTIONS`,
        applied on top of :data:`DEFAULT_LABEL_MAP` (its entries win). Keys
        compare case-insensitively, ignoring surrounding whitespace, with
        inner spaces and hyphens read as ``_``.
    keep_labels : bool, default=False
        If True, labels are not mapped into the shared vocabulary: they are
        kept as given (surrounding whitespace stripped), except those that
        ``label_map`` renames. Spellings that differ only in case or in
        spaces / hyphens / underscores (``angry`` and ``Angry``) are one
        class, named as the first spelling met, with a :class:`UserWarning`.
    modality : {"audio", "visual"}, default=None
        Which files to list. None lists both kinds and infers the modality,
        raising if both are present.
    fold_groups : bool, default=False
        If True, group ids that differ only in case (``spk03``, ``SPK03``)
        are one speaker, named as the first spelling met; if False they stay
        apart, with a :class:`UserWarning`. Surrounding whitespace is
        always stripped.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        filenames : ndarray of str, shape (n_files,)
            Paths of the recordings (``root`` joined with the relative
            path), sorted.
        target : ndarray of str, shape (n_files,)
            Emotions, in :data:`~skpathnet.datasets.EMOTIONS` unless
            ``keep_labels=True``.
        groups : ndarray of str, shape (n_files,)
            Speaker or subject ids.
        target_names : ndarray of str, shape (n_classes,)
            Sorted unique labels.
        DESCR : str
            Where the corpus was read from, and its label counts.
        modality : str
            ``"audio"`` or ``"visual"``.
        skipped : ndarray of str, shape (n_skipped,)
            Sorted relative paths of the files (and hidden folders) skipped.

    Raises
    ------
    FileNotFoundError
        If ``root`` is not a folder, or holds no file to list (the message
        names what was looked for and what was skipped).
    ValueError
        If ``label`` or ``group`` is an invalid regex or has not exactly one
        named group; a file's path does not match them, or the callable
        returns None or ``""`` or raises (the message names the paths and
        the regex); a label is unknown (the message lists every unknown
        label with its count; pass ``label_map=`` or ``keep_labels=True``);
        ``label_map`` maps outside the vocabulary without
        ``keep_labels=True``; ``modality`` is invalid, or None while the
        folder holds both audio and visual files; or two paths reach one
        file with different labels or groups.
    TypeError
        If ``label`` or ``group`` is neither a regex nor a callable.

    Warns
    -----
    UserWarning
        If files were skipped as neither audio nor visual, or as dangling
        links; if paths repeat a file; if group ids differ only in case
        (without ``fold_groups``); or if ``keep_labels`` merged spellings
        of one label.

    See Also
    --------
    load_manifest : Load a corpus listed in a CSV file or DataFrame.

    Examples
    --------
    A corpus laid out ``<root>/<speaker>/<emotion>/001.wav``:

    >>> from skpathnet.datasets import load_folder
    >>> data = load_folder(  # doctest: +SKIP
    ...     "corpus", label=r"^[^/]+/(?P<label>[^/]+)/", group=r"^(?P<group>[^/]+)/")
    >>> data.filenames[0], data.target[0], data.groups[0]  # doctest: +SKIP
    ('corpus/s01/angry/001.wav', 'anger', 's01')

    EMO-DB-like names (``03a01Wa.wav``, emotion in the 6th character) read by
    a callable, with their codes in ``label_map``:

    >>> data = load_folder(  # doctest: +SKIP
    ...     "emodb/wav", label=lambda path: path.rsplit("/", 1)[-1][5],
    ...     group=r"(?P<speaker>\\d\\d)[ab]\\d\\d", label_map={"W": "anger", "N": "neutral"})
    """
    _check_modality(modality)
    root = Path(root).expanduser()
    if not root.is_dir():
        raise FileNotFoundError(f"Corpus folder {str(root)!r} not found or not a folder.")
    get_label, label_what = _extractor(label, "label")
    get_group, group_what = _extractor(group, "group")

    relatives, skipped, unsupported, broken = _walk(root, pattern, modality)
    if not relatives:
        looked_for = (
            f"{modality} files ({_MODALITY_EXTENSIONS[modality]})"
            if modality
            else f"audio {AUDIO_EXTENSIONS} or visual {VISUAL_EXTENSIONS} files"
        )
        if pattern is not None:
            looked_for += f" matching {pattern!r}"
        raise FileNotFoundError(
            f"No {looked_for} found under {str(root)!r} (skipped {len(skipped)}: "
            f"{skipped[:_N_SHOWN]}{' ...' if len(skipped) > _N_SHOWN else ''})."
        )
    if modality is None:
        modality = _infer_modality([root / r for r in relatives], f"folder {str(root)!r}")
    labels = _extract(get_label, label_what, relatives, "label")
    groups = _extract(get_group, group_what, relatives, "group")
    target = _map_labels(labels, label_map, keep_labels)
    source = f"folder {str(root)!r}"
    keep = _deduplicate([root / r for r in relatives], target, groups, relatives, source)
    relatives, target = [relatives[i] for i in keep], [target[i] for i in keep]
    groups = _check_groups([groups[i] for i in keep], source, fold_groups)
    if unsupported:
        warnings.warn(
            f"load_folder skipped {len(unsupported)} files under {str(root)!r} whose "
            f"extension is neither audio {AUDIO_EXTENSIONS} nor visual "
            f"{VISUAL_EXTENSIONS}: {unsupported[:_N_SHOWN]}"
            f"{' ...' if len(unsupported) > _N_SHOWN else ''} (all skipped files are "
            f"in the returned skipped).",
            UserWarning,
            stacklevel=2,
        )
    if broken:
        warnings.warn(
            f"load_folder skipped {len(broken)} entries under {str(root)!r} that are "
            f"dangling symbolic links or not regular files: {broken[:_N_SHOWN]}"
            f"{' ...' if len(broken) > _N_SHOWN else ''} (listed in the returned skipped); "
            f"fix or remove those links.",
            UserWarning,
            stacklevel=2,
        )
    descr = _describe(
        "load_folder", f"folder {str(root)!r}", target, groups, modality, keep_labels, label_map
    )
    return _bunch(
        [root / relative for relative in relatives],
        target,
        groups,
        descr,
        keep_labels,
        modality=modality,
        skipped=np.asarray(skipped, dtype=str),
    )
