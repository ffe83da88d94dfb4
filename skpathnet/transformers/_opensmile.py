"""Audio front end: openSMILE functionals, one feature vector per clip.

The standard input of speech emotion recognition outside deep learning: the
frame-level low-level descriptors of an acoustic parameter set (pitch,
energy, spectral and cepstral descriptors, voice quality) summarised over
the whole clip by statistical *functionals* (means, percentiles, slopes,
...). The features come from audEERING's ``opensmile`` package, an optional
extra of skpathnet (``pip install "skpathnet[opensmile]"``) under audEERING's
research licence: free for non-commercial research, teaching and personal
use; commercial use needs a licence from audEERING.
"""

import functools

import librosa
import numpy as np

from ._audio import AudioFrontEnd, check_number, extract_clips, load_clip

__all__ = ["OpenSmileFunctionals", "FEATURE_SETS"]

#: openSMILE feature sets offered, with their number of functionals.
FEATURE_SETS = {
    "ComParE_2016": 6373,
    "eGeMAPSv02": 88,
    "GeMAPSv01b": 62,
    "emobase": 988,
    "IS09": 384,
    "IS10": 1582,
    "IS13": 6373,
}

#: Shortest clip accepted, in seconds: ComParE_2016's longest analysis
#: window (60 ms) must fit once.
MIN_SECONDS = 0.06

_INSTALL_HINT = (
    'OpenSmileFunctionals needs audEERING\'s opensmile package: pip install "skpathnet[opensmile]" '
    "(or pip install opensmile). openSMILE is under audEERING's research licence: free for "
    "non-commercial research, teaching and personal use; commercial use needs a licence from "
    "audEERING."
)


def _import_opensmile():
    try:
        import opensmile
    except ImportError as exc:
        raise ImportError(_INSTALL_HINT) from exc
    return opensmile


@functools.lru_cache(maxsize=None)
def _smile(feature_set):
    """One ``opensmile.Smile`` per feature set and process (its start-up is slow)."""
    opensmile = _import_opensmile()
    return opensmile.Smile(
        feature_set=getattr(opensmile.FeatureSet, feature_set),
        feature_level=opensmile.FeatureLevel.Functionals,
    )


class OpenSmileFunctionals(AudioFrontEnd):
    """openSMILE functionals of audio clips, one row per clip.

    Each clip is read (or taken as samples), downmixed to mono, resampled to
    ``sr`` and passed to openSMILE [1]_, which computes the functionals of
    ``feature_set`` over the whole clip: 6,373 for ComParE_2016 [2]_, 88 for
    eGeMAPSv02 [3]_. With a linear SVM these are the usual baseline of speech
    emotion recognition; they also feed :class:`~skpathnet.PathNetClassifier`
    as plain 2-D input.

    The transformer is stateless: :meth:`fit` only validates the parameters.
    It needs the optional ``opensmile`` package (``pip install
    "skpathnet[opensmile]"``), licensed by audEERING for non-commercial use
    only (research, teaching, personal use); commercial use needs a licence
    from audEERING.

    Parameters
    ----------
    feature_set : str, default="ComParE_2016"
        openSMILE parameter set, a key of :data:`FEATURE_SETS`:
        ``"ComParE_2016"`` (6,373 functionals, the Interspeech 2016 ComParE
        set [2]_), ``"eGeMAPSv02"`` (88, the extended Geneva minimalistic
        set [3]_), ``"GeMAPSv01b"``, ``"emobase"``, ``"IS09"``, ``"IS10"``,
        ``"IS13"``.
    sr : int or None, default=16000
        Sample rate in Hz every clip is resampled to before extraction (the
        rate of the bundled corpora), so that corpora recorded at different
        rates give comparable spectral features. None keeps each clip's own
        rate.
    input_sr : float or None, default=None
        Sample rate in Hz of the 1-D arrays in ``X``; None means ``sr``
        (required when ``sr`` is None and ``X`` holds arrays). Files are read
        at their own rate and ignore it.
    n_jobs : int or None, default=None
        Clips processed in parallel with joblib; None means 1 unless in a
        :func:`joblib.parallel_backend` context, -1 means all processors.
    memory : str, path-like, joblib.Memory or None, default=None
        Cache of the per-clip extraction, keyed on a file's path, size and
        modification time (an array's content) and on ``feature_set``,
        ``sr`` and ``input_sr``. None disables caching.

    See Also
    --------
    skpathnet.transformers.LogMelSegmenter : log-mel segments for the paper's
        front end; same input handling and errors.
    skpathnet.transformers.GroupStandardScaler : speaker normalisation of
        these features.

    Notes
    -----
    Features are computed in float32 by openSMILE from the samples read by
    libsndfile (WAV, FLAC, OGG, ...) and resampled with
    :func:`librosa.resample`; openSMILE's own file reader is not used, so
    the errors for missing, undecodable, too short or non-finite clips are
    those of :class:`~skpathnet.transformers.LogMelSegmenter`. A clip must
    last at least 0.06 s (ComParE's longest window).

    References
    ----------
    .. [1] F. Eyben, M. Wöllmer and B. Schuller, "openSMILE: the Munich
       versatile and fast open-source audio feature extractor", ACM
       Multimedia, pp. 1459-1462, 2010.
    .. [2] B. Schuller et al., "The INTERSPEECH 2016 Computational
       Paralinguistics Challenge: Deception, Sincerity & Native Language",
       Interspeech, 2016.
    .. [3] F. Eyben et al., "The Geneva Minimalistic Acoustic Parameter Set
       (GeMAPS) for Voice Research and Affective Computing", IEEE
       Transactions on Affective Computing, 7(2), pp. 190-202, 2016.

    Examples
    --------
    >>> import numpy as np
    >>> from skpathnet.transformers import OpenSmileFunctionals
    >>> t = np.arange(16000) / 16000
    >>> tone = (0.5 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    >>> OpenSmileFunctionals(feature_set="eGeMAPSv02").fit_transform([tone, tone]).shape
    (2, 88)
    """

    def __init__(self, *, feature_set="ComParE_2016", sr=16000, input_sr=None, n_jobs=None,
                 memory=None):
        self.feature_set = feature_set
        self.sr = sr
        self.input_sr = input_sr
        self.n_jobs = n_jobs
        self.memory = memory

    def fit(self, X=None, y=None):
        """Validate the parameters (and that opensmile is installed); nothing is learnt.

        Parameters
        ----------
        X, y : ignored

        Returns
        -------
        self : OpenSmileFunctionals

        Raises
        ------
        ValueError
            If a parameter is invalid; the message names it.
        ImportError
            If the ``opensmile`` package is not installed (the message says
            how to install it).
        """
        super().fit()
        _import_opensmile()
        return self

    def transform(self, X):
        """Compute the functionals of each clip.

        Parameters
        ----------
        X : sequence of str, path-like or 1-D float ndarray, length n_clips
            Audio file paths and/or 1-D float arrays of mono samples at
            ``input_sr`` Hz.

        Returns
        -------
        features : ndarray of shape (n_clips, n_features), float32
            ``n_features`` is ``FEATURE_SETS[feature_set]``, in the order of
            :meth:`get_feature_names_out`.

        Raises
        ------
        FileNotFoundError, OSError, ValueError
            As :meth:`LogMelSegmenter.transform
            <skpathnet.transformers.LogMelSegmenter.transform>`: a missing or
            undecodable file, a clip that is not 1-D float, shorter than
            0.06 s, or not finite (each message names the clip); an invalid
            parameter.
        ImportError
            If ``opensmile`` is not installed.
        """
        params = self._extraction_params()
        _import_opensmile()
        rows = extract_clips(
            _extract_functionals, X, memory=self.memory, n_jobs=self.n_jobs, **params
        )
        return np.stack(rows).astype(np.float32, copy=False)

    def get_feature_names_out(self, input_features=None):
        """openSMILE's names of the functionals, e.g. ``"F0semitoneFrom27.5Hz_sma3nz_amean"``.

        Returns
        -------
        names : ndarray of str, shape (n_features,)
        """
        params = self._extraction_params()
        return np.asarray(_smile(params["feature_set"]).feature_names, dtype=object)

    def _extraction_params(self):
        if self.feature_set not in FEATURE_SETS:
            raise ValueError(
                f"feature_set={self.feature_set!r} is invalid: choose one of "
                f"{sorted(FEATURE_SETS)}."
            )
        sr = None
        if self.sr is not None:
            sr = int(check_number("sr", self.sr, integral=True, minimum=1))
        input_sr = self.input_sr
        if input_sr is not None:
            input_sr = float(check_number("input_sr", input_sr, minimum=0, strict=True))
        if self.n_jobs is not None and not isinstance(self.n_jobs, int):
            raise ValueError(f"n_jobs={self.n_jobs!r} is invalid: expected an int or None.")
        return dict(feature_set=self.feature_set, sr=sr, input_sr=input_sr)


def _extract_functionals(clip, name, stamp, *, feature_set, sr, input_sr):
    """Functionals of one clip: float32 ndarray of shape (n_features,).

    ``name`` only phrases error messages and ``stamp`` only keys the cache.
    """
    rate = input_sr if input_sr is not None else sr
    if rate is None and not isinstance(clip, str):
        raise ValueError(
            f"{name[0].upper()}{name[1:]} is a sample array but neither sr nor input_sr "
            f"is set; pass input_sr=<its rate in Hz>."
        )
    y, rate = load_clip(clip, name, rate=rate, min_seconds=MIN_SECONDS,
                        too_short=f"openSMILE functionals need at least {MIN_SECONDS:g} s")
    if sr is not None and rate != sr:
        y = librosa.resample(np.asarray(y, dtype=np.float64), orig_sr=rate, target_sr=sr)
        rate = sr
    features = _smile(feature_set).process_signal(
        np.asarray(y, dtype=np.float32), int(round(rate))
    )
    row = features.to_numpy(dtype=np.float32)[0]
    # openSMILE leaves a functional undefined (NaN) e.g. on a clip without voiced frames
    return np.nan_to_num(row, nan=0.0, posinf=0.0, neginf=0.0)
