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

import csv
import fnmatch
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
    """Map raw labels into EMOTIONS (or keep them), raising on unknown labels."""
    table = _label_table(label_map, keep_labels)
    if keep_labels:
        return [table.get(_normalise(label), label) for label in labels]
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
            f"keep the labels as given."
        )
    return [table[_normalise(label)] for label in labels]


# --------------------------------------------------------------------------- Bunch


def _check_modality(modality):
    if modality is not None and modality not in _MODALITY_EXTENSIONS:
        raise ValueError(f"modality must be 'audio', 'visual' or None; got {modality!r}.")


def _modality_of(path):
    suffix = PurePath(path).suffix.lower()
    for modality, extensions in _MODALITY_EXTENSIONS.items():
        if suffix in extensions:
            return modality
    return None


def _infer_modality(paths, where):
    """The one modality of ``paths`` (all with a known extension), else raise."""
    kinds = {}
    for path in paths:
        kinds.setdefault(_modality_of(path), []).append(str(path))
    if None in kinds:
        unknown = kinds[None]
        raise ValueError(
            f"Cannot tell the modality of {len(unknown)} files of {where} from their "
            f"extension, e.g. {unknown[:_N_SHOWN]}; known extensions are "
            f"{AUDIO_EXTENSIONS} (audio) and {VISUAL_EXTENSIONS} (visual). Pass "
            f"modality='audio' or modality='visual'."
        )
    if len(kinds) > 1:
        raise ValueError(
            f"{where} mixes {len(kinds['audio'])} audio files (e.g. "
            f"{kinds['audio'][:2]}) and {len(kinds['visual'])} visual files (e.g. "
            f"{kinds['visual'][:2]}); load one modality at a time: pass "
            f"modality='audio' or modality='visual'."
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


# --------------------------------------------------------------------------- manifest


def _is_dataframe(obj):
    pandas = sys.modules.get("pandas")  # a DataFrame implies pandas is imported
    return pandas is not None and isinstance(obj, pandas.DataFrame)


def _read_csv(path):
    """Header and rows of a CSV file, each row with its data row and line numbers."""
    if not path.is_file():
        raise FileNotFoundError(
            f"Manifest {str(path)!r} not found; pass the path of a CSV file with "
            f"one row per recording."
        )
    with open(path, newline="", encoding="utf-8-sig") as f:
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
):
    """Load a user's corpus listed in a manifest: one row per recording.

    The manifest is a CSV file (read with the :mod:`csv` module; comma,
    semicolon or tab separated, a ``.tsv`` file tab separated; UTF-8, with or
    without BOM) or a :class:`pandas.DataFrame`, with a header naming at
    least a file, a label and a group (speaker or subject) column. Rows keep
    their manifest order. Files are checked to exist but not decoded.

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
        ``label_map`` renames.
    modality : {"audio", "visual"}, default=None
        Kind of the recordings. None infers it from the files' extensions
        (:data:`AUDIO_EXTENSIONS`, :data:`VISUAL_EXTENSIONS`).
    root : str or path-like, default=None
        Folder against which relative paths are resolved, instead of the
        CSV file's folder (or the current directory for a DataFrame).

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
        invalid; or, with ``modality=None``, an extension is unknown or the
        files mix audio and visual ones.
    TypeError
        If ``manifest`` is neither a path nor a DataFrame.

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
        header, rows = _read_csv(path)
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
                f"{header}. Pass {param}=<the column's name>."
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
            f"Fix the paths, pass root= to resolve them against another folder, or "
            f"drop those rows."
        )
    if modality is None:
        modality = _infer_modality(filenames, source)

    labels = [fields[index["label_column"]].strip() for _, fields in rows]
    groups = [fields[index["group_column"]].strip() for _, fields in rows]
    target = _map_labels(labels, label_map, keep_labels)
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
            f"{param}= expression, or exclude those files with pattern=."
        )
    return values


def _walk(root, pattern, modality):
    """Sorted relative POSIX paths of the files to list, and of those skipped.

    Skipped paths come in three lists: hidden (a part of the path starts with
    ".", hidden folders are listed once and not entered), deliberate (not
    matching ``pattern``, or of the other modality than the one asked for)
    and unsupported (an extension that is neither audio nor visual).
    """
    kept, hidden, deliberate, unsupported = [], [], [], []
    for folder, dirs, files in os.walk(root):
        rel_folder = PurePath(os.path.relpath(folder, root))
        for name in sorted(dirs):
            if name.startswith("."):
                hidden.append((rel_folder / name).as_posix())
        dirs[:] = sorted(name for name in dirs if not name.startswith("."))
        for name in files:
            relative = (rel_folder / name).as_posix()
            if not os.path.isfile(os.path.join(folder, name)):
                continue  # broken link, socket...
            kind = _modality_of(name)
            if name.startswith("."):
                hidden.append(relative)
            elif pattern is not None and not fnmatch.fnmatchcase(relative, pattern):
                deliberate.append(relative)
            elif kind is None:
                unsupported.append(relative)
            elif modality is not None and kind != modality:
                deliberate.append(relative)
            else:
                kept.append(relative)
    return sorted(kept), sorted(hidden + deliberate + unsupported), sorted(unsupported)


def load_folder(
    root,
    *,
    label,
    group,
    pattern=None,
    label_map=None,
    keep_labels=False,
    modality=None,
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
    other modality when ``modality`` is given. Files with any other
    extension (``notes.txt``) are skipped with a :class:`UserWarning`
    giving their count and first names. All of them are listed in
    ``skipped``.

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
        ``label_map`` renames.
    modality : {"audio", "visual"}, default=None
        Which files to list. None lists both kinds and infers the modality,
        raising if both are present.

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
        folder holds both audio and visual files.
    TypeError
        If ``label`` or ``group`` is neither a regex nor a callable.

    Warns
    -----
    UserWarning
        If files were skipped for an unsupported extension.

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

    relatives, skipped, unsupported = _walk(root, pattern, modality)
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
        modality = _infer_modality(relatives, f"folder {str(root)!r}")
    labels = _extract(get_label, label_what, relatives, "label")
    groups = _extract(get_group, group_what, relatives, "group")
    target = _map_labels(labels, label_map, keep_labels)
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
