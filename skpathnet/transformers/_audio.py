"""Audio input handling shared by the audio front ends.

:class:`~skpathnet.transformers.LogMelSegmenter` and
:class:`~skpathnet.transformers.OpenSmileFunctionals` take the same clips
(file paths or 1-D float sample arrays), check them the same way and read
files with libsndfile; the checks and the reader are written here once.
"""

import contextlib
import math
import numbers
import os
import signal
import threading

import numpy as np
import soundfile as sf
from joblib import effective_n_jobs
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.parallel import Parallel, delayed
from sklearn.utils.validation import check_memory

__all__ = ["AudioFrontEnd", "check_band", "check_clips", "check_number", "extract_clips",
           "file_stamp", "frame_lengths", "load_clip", "read_audio"]


def check_number(name, value, *, integral=False, minimum=None, strict=False):
    """Return ``value`` if it is a real (or integral) number above ``minimum``."""
    kind = numbers.Integral if integral else numbers.Real
    ok = isinstance(value, kind) and not isinstance(value, bool) and math.isfinite(value)
    if ok and minimum is not None:
        ok = value > minimum if strict else value >= minimum
    if not ok:
        what = "an integer" if integral else "a number"
        bound = f" > {minimum}" if strict else f" >= {minimum}"
        raise ValueError(f"{name}={value!r} is invalid: expected {what}{bound}.")
    return value


def check_band(fmin, fmax, sr):
    """Return ``(fmin, fmax)`` as floats if ``0 <= fmin < fmax <= sr / 2`` (Hz).

    Raises
    ------
    ValueError
        If either is not a number >= 0 (naming it), or they are out of order
        or above the Nyquist frequency (naming both).
    """
    low = check_number("fmin", fmin, minimum=0)
    high = check_number("fmax", fmax, minimum=0)
    if not low < high <= sr / 2:
        raise ValueError(
            f"fmin={fmin!r} and fmax={fmax!r} are invalid: expected "
            f"0 <= fmin < fmax <= sr / 2 = {sr / 2:g} Hz."
        )
    return float(low), float(high)


def frame_lengths(window_ms, hop_ms, sr):
    """Return ``(win_length, hop_length, n_fft)`` in samples for ``window_ms`` / ``hop_ms``.

    Frames last ``window_ms`` and start every ``hop_ms`` milliseconds;
    ``n_fft`` is the smallest power of two that holds the window (512 for
    25 ms at 16 kHz).

    Raises
    ------
    ValueError
        If either is not a number > 0 (naming it), or the window is shorter
        than 2 samples or the hop than 1 at ``sr`` Hz (naming both).
    """
    window = check_number("window_ms", window_ms, minimum=0, strict=True)
    hop = check_number("hop_ms", hop_ms, minimum=0, strict=True)
    win_length, hop_length = round(sr * window / 1000), round(sr * hop / 1000)
    if win_length < 2 or hop_length < 1:
        raise ValueError(
            f"window_ms={window_ms!r} and hop_ms={hop_ms!r} are too short at sr={sr} Hz: "
            f"the window needs at least 2 samples and the hop at least 1."
        )
    return int(win_length), int(hop_length), int(2 ** math.ceil(math.log2(win_length)))


def check_clips(X):
    """Return ``X`` as a list of str paths and 1-D float arrays."""
    if isinstance(X, (str, bytes, os.PathLike)):
        raise ValueError(
            f"X={X!r} is a single path; pass a sequence of clips, e.g. [path]."
        )
    if isinstance(X, np.ndarray) and X.dtype != object and X.dtype.kind not in "US":
        if X.ndim == 1:
            raise ValueError(
                f"X is a numeric 1-D array of shape {X.shape}, i.e. a single clip; "
                f"pass a sequence of clips, e.g. [y]."
            )
        raise ValueError(
            f"X is a numeric array of shape {X.shape}; pass a sequence of clips "
            f"(file paths or 1-D sample arrays), e.g. list(X) for equal-length clips."
        )
    if isinstance(X, np.ndarray) and X.ndim != 1:
        raise ValueError(f"X has shape {X.shape}; expected a 1-D sequence of clips.")
    try:
        items = list(X)
    except TypeError:
        raise ValueError(
            f"X of type {type(X).__name__} is not a sequence of clips (file paths "
            f"or 1-D sample arrays)."
        ) from None
    if not items:
        raise ValueError("X holds no clip; pass at least one file path or sample array.")
    clips = []
    for i, item in enumerate(items):
        if isinstance(item, (str, os.PathLike)):
            clips.append(os.fspath(item))
            continue
        y = np.asarray(item)
        if y.dtype.kind != "f":
            hint = (
                " Scale integer PCM to float, e.g. y / 32768 for int16."
                if y.dtype.kind in "iu"
                else ""
            )
            raise ValueError(
                f"Clip {i} has dtype {y.dtype}; expected a file path or a 1-D "
                f"float array of samples.{hint}"
            )
        if y.ndim != 1:
            raise ValueError(
                f"Clip {i} has shape {y.shape}; expected a 1-D array of mono "
                f"samples (downmix multi-channel audio first, e.g. y.mean(axis=0))."
            )
        clips.append(y)
    return clips


def file_stamp(path, name):
    """Return (size, mtime_ns) of ``path``, the cache's view of its content."""
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        raise FileNotFoundError(
            f"{name[0].upper()}{name[1:]} not found; check the path "
            f"(relative paths are resolved from {os.getcwd()!r})."
        ) from None
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{name[0].upper()}{name[1:]} is not a file.")
    return stat.st_size, stat.st_mtime_ns


def read_audio(path, name):
    """Read a file as mono float32 samples; return (samples, rate in Hz).

    Raises
    ------
    OSError
        If libsndfile cannot decode the file.
    ValueError
        If the file holds fewer samples than its header declares (a WAV
        whose data chunk runs past the end of the file, or a file decoded
        shorter than its header's frame count): the message names the file.
    """
    try:
        with sf.SoundFile(path) as f:
            declared = f.frames
            y = f.read(dtype="float32", always_2d=True)
            rate = f.samplerate
    except (RuntimeError, OSError, TypeError) as exc:
        raise OSError(
            f"Could not decode {name}: {exc}. The audio front ends read what "
            f"libsndfile reads (WAV, FLAC, OGG, ...); convert the file, or pass "
            f"its samples as a 1-D float array with input_sr=<its rate>."
        ) from exc
    missing = _missing_wav_bytes(path)
    if missing or 0 < len(y) < declared:
        what = (f"its data chunk declares {missing} bytes more than the file holds"
                if missing else f"its header declares {declared} frames, {len(y)} decoded")
        raise ValueError(
            f"{name[0].upper()}{name[1:]} is truncated: {what}. Re-copy or re-export the "
            f"file (or drop it from the corpus)."
        )
    return y.mean(axis=1), int(rate)


def load_clip(clip, name, *, rate, min_seconds, too_short):
    """Samples and rate of one clip, checked: a file read, or an array taken at ``rate`` Hz.

    Parameters
    ----------
    clip : str or ndarray of shape (n_samples,), float
        A file path (read with :func:`read_audio`) or mono samples.
    name : str
        The clip in error messages, e.g. ``"clip 2 (1-D array)"``.
    rate : float
        Sample rate of an array clip in Hz (a file's own rate is used).
    min_seconds : float
        Shortest duration accepted, in seconds.
    too_short : str
        The end of the error for a shorter clip: what needs how long, e.g.
        ``"openSMILE functionals need at least 0.06 s"``.

    Returns
    -------
    y : ndarray of shape (n_samples,), float
    rate : float
        In Hz.

    Raises
    ------
    ValueError
        If the clip lasts less than ``min_seconds`` or holds NaN or infinite
        samples; the message names it. Errors of :func:`read_audio` for files.
    """
    if isinstance(clip, str):
        y, rate = read_audio(clip, name)
    else:
        y = clip
    if y.size / rate < min_seconds:
        raise ValueError(
            f"{name[0].upper()}{name[1:]} is too short: {y.size} samples "
            f"({y.size / rate:.4g} s at {rate:g} Hz); {too_short}. Drop it from X."
        )
    if not np.all(np.isfinite(y)):
        raise ValueError(
            f"{name[0].upper()}{name[1:]} contains NaN or infinite samples; "
            f"repair them (e.g. np.nan_to_num) or drop the clip."
        )
    return y, rate


def _missing_wav_bytes(path):
    """How many bytes a RIFF/RIFX WAV file's data chunk declares beyond the file's end.

    libsndfile silently decodes such a file short (its frame count already
    shrunk to what is there), so the chunk sizes are read here. 0 for a
    complete file, a file that is no RIFF WAV, or an RF64 one (sizes elsewhere).
    """
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        head = f.read(12)
        if len(head) < 12 or head[:4] not in (b"RIFF", b"RIFX") or head[8:12] != b"WAVE":
            return 0
        order = "little" if head[:4] == b"RIFF" else "big"
        offset = 12
        while offset + 8 <= size:
            f.seek(offset)
            chunk = f.read(8)
            length = int.from_bytes(chunk[4:8], order)
            if chunk[:4] == b"data":
                return max(0, offset + 8 + length - size)
            offset += 8 + length + (length & 1)  # chunks are padded to even sizes
    return 0


def extract_clips(extract, X, *, memory=None, n_jobs=None, **params):
    """Run ``extract(clip, name, stamp, **params)`` on every clip of ``X``.

    ``X`` is checked with :func:`check_clips`; each clip is a str path or a
    1-D float array, ``name`` phrases its error messages (``"audio file
    'a.wav' (clip 0)"``) and ``stamp`` is a file's (size, mtime) for the
    cache (None for arrays). Calls run in ``n_jobs`` joblib workers and are
    cached in ``memory`` (keyed on everything but ``name``).

    Run in this process (``n_jobs`` 1 or None), a Ctrl-C (SIGINT) stops
    the extraction at the end of the clip in progress at the latest, even
    where a native library swallows the ``KeyboardInterrupt`` in a callback
    (openSMILE does): the interrupt is recorded and raised after that clip.

    Returns
    -------
    outputs : list, one item per clip, in order.

    Raises
    ------
    KeyboardInterrupt
        On Ctrl-C, as described above.
    """
    clips = check_clips(X)
    cached = check_memory(memory).cache(extract, ignore=["name"])
    jobs = []
    for i, clip in enumerate(clips):
        if isinstance(clip, str):
            name = f"audio file {clip!r} (clip {i})"
            stamp = file_stamp(clip, name)
        else:
            name = f"clip {i} (1-D array)"
            stamp = None
        jobs.append(delayed(cached)(clip, name, stamp, **params))
    if effective_n_jobs(n_jobs) != 1:
        return Parallel(n_jobs=n_jobs)(jobs)
    outputs = []
    with _interrupt_between_clips() as interrupted:
        for output in Parallel(n_jobs=1, return_as="generator")(jobs):
            outputs.append(output)
            if interrupted():
                raise KeyboardInterrupt
    return outputs


@contextlib.contextmanager
def _interrupt_between_clips():
    """Record SIGINT while extracting in this process; yield ``interrupted()``.

    The handler also raises ``KeyboardInterrupt`` at once, as Python's own
    does, so pure-Python work stops where it is; where a native library's
    callback swallows it, ``interrupted()`` still says so after the clip.
    Nothing changes outside the main thread or under a custom SIGINT handler.
    """
    hits = []
    if (threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGINT) is not signal.default_int_handler):
        yield lambda: False
        return

    def handler(signum, frame):
        hits.append(signum)
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, handler)
    try:
        yield lambda: bool(hits)
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)


class AudioFrontEnd(TransformerMixin, BaseEstimator):
    """Base of the stateless audio front ends: clips in, one output per clip.

    :class:`~skpathnet.transformers.LogMelSegmenter`,
    :class:`~skpathnet.transformers.AcousticFunctionals` and
    :class:`~skpathnet.transformers.OpenSmileFunctionals` take file paths or
    1-D float sample arrays (:func:`check_clips`) and learn nothing: a
    subclass defines ``_extraction_params()``, which validates its parameters
    and returns the extractor's keywords, and ``transform``.
    """

    def fit(self, X=None, y=None):
        """Validate the parameters; nothing is learnt.

        Parameters
        ----------
        X, y : ignored
            Accepted for API consistency.

        Returns
        -------
        self : object

        Raises
        ------
        ValueError
            If a parameter is invalid; the message names it.
        """
        self._extraction_params()
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.input_tags.one_d_array = True
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        return tags
