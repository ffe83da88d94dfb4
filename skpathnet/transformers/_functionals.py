"""Audio front end: acoustic functionals computed with librosa, one row per clip.

The licence-free counterpart of :class:`~skpathnet.transformers.OpenSmileFunctionals`:
frame-level low-level descriptors (LLDs) of the spectrum, the cepstrum, the
energy and the pitch, summarised over the whole clip by statistical
*functionals*, the brute-force design of the Interspeech ComParE sets
(Schuller et al. 2013) on descriptors of eGeMAPS (Eyben et al. 2016), from
librosa and numpy alone (ISC licence): no research licence, and the main
job's speech default.
"""

import math
import numbers
import warnings

import librosa
import numpy as np
from scipy import stats

from ._audio import (
    AudioFrontEnd, check_band, check_number, extract_clips, frame_lengths, load_clip,
)

__all__ = ["AcousticFunctionals", "F0_METHODS", "FUNCTIONALS", "SHAPE_FUNCTIONALS",
           "contour_functionals"]

#: The functionals applied to every contour (LLDs, their deltas, pitch), in output order.
FUNCTIONALS = ("mean", "std", "pctl1", "pctl25", "pctl50", "pctl75", "pctl99", "iqr",
               "range1_99", "slope", "mean_abs_diff", "std_diff")

#: Functionals of a contour's shape, after :data:`FUNCTIONALS` for the LLDs and
#: the pitch (not the deltas): skewness, kurtosis (Fisher's, 0 for a normal
#: distribution) and ComParE's up-level times, the fraction of frames above 25,
#: 50, 75 and 90 % of the contour's range (Schuller et al. 2013).
SHAPE_FUNCTIONALS = ("skewness", "kurtosis", "uplevel25", "uplevel50", "uplevel75",
                     "uplevel90")
#: Thresholds of the up-level times, fractions of the range above the minimum.
UPLEVEL_POINTS = (0.25, 0.5, 0.75, 0.9)

#: Pitch trackers: pYIN (Mauch and Dixon 2014) with its voicing decision, YIN
#: (de Cheveigné and Kawahara 2002) gated by energy, or no pitch at all.
F0_METHODS = ("pyin", "yin", "none")

#: Width (frames) of librosa's Savitzky-Golay delta filter, its default.
DELTA_WIDTH = 9
#: Lowest edge (Hz) of spectral contrast's first octave band, librosa's default.
CONTRAST_FMIN = 200.0
#: Spectral roll-off points (fractions of the energy), those of ComParE_2016
#: (Schuller et al. 2013; Weninger et al. 2013).
ROLLOFF_POINTS = (0.25, 0.5, 0.75, 0.9)
#: Length of the pitch tracker's frames in seconds: two periods of 31 Hz,
#: 1,024 samples at 16 kHz (librosa's pYIN default at 22,050 Hz is 93 ms).
F0_FRAME_SECONDS = 0.064
#: YIN only: a frame is voiced when its energy is within this many dB of the
#: clip's loudest frame (YIN itself makes no voicing decision).
YIN_GATE_DB = 30.0
#: Version of the feature definitions, part of the cache key: the cache sees the
#: extractor's own code, not the helpers it calls, so a change to what a feature
#: means must bump it.
DEFINITION_VERSION = 2
#: eGeMAPS' spectral balance descriptors (Eyben et al. 2016, Sec. 3.1), their
#: bands in Hz: the alpha ratio (energy 50-1000 Hz over 1-5 kHz), the Hammarberg
#: index (strongest bin 0-2 kHz over 2-5 kHz) and the spectral slopes 0-500 Hz
#: and 500-1500 Hz. With ``voice_quality``; they need ``sr`` of at least 10 kHz.
ALPHA_BANDS = ((50.0, 1000.0), (1000.0, 5000.0))
HAMMARBERG_BANDS = ((0.0, 2000.0), (2000.0, 5000.0))
SLOPE_BANDS = ((0.0, 500.0), (500.0, 1500.0))
#: Reference of the pitch in semitones: 27.5 Hz (A0), as eGeMAPS'
#: F0semitoneFrom27.5Hz (Eyben et al. 2016, Sec. 3.1).
F0_REFERENCE_HZ = 27.5
#: Exponent of the intensity-to-loudness power law of the loudness contour
#: (``loudness`` and ``temporal``): the cube-root compression of openSMILE's
#: auditory spectrum behind eGeMAPS' loudness (Eyben et al. 2016, Sec. 3.1;
#: Hermansky 1990's PLP, after Stevens' power law of loudness, 0.33).
LOUDNESS_EXPONENT = 0.33
#: ``temporal``: a loudness peak is a local maximum of the loudness contour,
#: smoothed by eGeMAPS' 3-frame symmetric moving average (Eyben et al. 2016,
#: Sec. 3.2), standing out from the higher of its neighbouring minima by at
#: least this fraction of the clip's loud level, the 99th percentile of the
#: contour (scipy's peak prominence), so that the ripple of a steady sound is
#: no peak. The fraction is this package's choice (the paper gives none for
#: openSMILE's), checked on synthetic syllable trains and steady vowels (tests),
#: not chosen on any corpus.
LOUDNESS_PEAK_PROMINENCE = 0.1
#: ``formants``: LPC order, 2 + sr / 1000 (18 at 16 kHz): one pole pair per kHz
#: of bandwidth plus two for the glottal and radiation slope (the rule of thumb of
#: Markel and Gray 1976). Given as the order beyond sr / 1000.
LPC_EXTRA_ORDER = 2
#: ``formants``: pre-emphasis coefficient of the LPC frames, Praat's "pre-emphasis
#: from 50 Hz" (exp(-2 pi 50 / sr), 0.9806 at 16 kHz; Boersma and Weenink, Praat,
#: Sound: To Formant (burg)), given as that frequency in Hz.
PREEMPHASIS_HZ = 50.0
#: ``formants``: a root of the LPC polynomial is a formant candidate when its
#: frequency is at least 90 Hz and its bandwidth at most 400 Hz (the usual
#: screening of LPC formant trackers, e.g. Markel and Gray 1976, and Snell and
#: Milinazzo 1993); the three lowest remaining are F1-F3.
FORMANT_MIN_HZ = 90.0
FORMANT_MAX_BANDWIDTH_HZ = 400.0
#: ``temporal``: voicing every ``hop_ms`` for the voiced and unvoiced regions, by
#: the autocorrelation method of Boersma (1993; Praat's "To Pitch (ac)", without
#: its path finder): a frame of this many seconds (Hann window) is voiced when
#: the peak of its normalised autocorrelation, divided by the window's own, at a
#: lag of 1 / f0_max to 1 / f0_min exceeds :data:`VOICING_THRESHOLD` and its RMS
#: is above :data:`SILENCE_THRESHOLD` times the clip's loudest frame's; then a
#: median filter of :data:`VOICING_MEDIAN_FRAMES` frames removes blips shorter
#: than half of it, as openSMILE's pitch smoother does for eGeMAPS. The pitch
#: tracker's voicing every 40 ms (pYIN's HMM) merges a whole sentence into one or
#: two voiced regions, far from eGeMAPS' syllable-like ones (RESULTS.md, round 5).
VOICING_FRAME_SECONDS = 0.04
#: Praat's default is 0.45 with its path finder; 0.6, the silence threshold of 0.1
#: (Praat: 0.03) and the 5-frame median were set by the agreement of the voiced
#: and unvoiced region statistics with openSMILE eGeMAPSv02's on 150 EMOVO clips
#: (a source corpus; Spearman r 0.66-0.92, RESULTS.md, round 5), not by accuracy.
VOICING_THRESHOLD = 0.6
SILENCE_THRESHOLD = 0.1
VOICING_MEDIAN_FRAMES = 5
#: Names of the temporal (rhythm) features of ``temporal`` (eGeMAPS' temporal
#: set, Eyben et al. 2016, Sec. 3.1.4 / 3.2).
TEMPORAL_NAMES = ("loudness_peaks_per_s", "voiced_regions_per_s", "voiced_region_mean_s",
                  "voiced_region_std_s", "unvoiced_region_mean_s", "unvoiced_region_std_s")
#: Formant contours of ``formants``: frequency (Hz), bandwidth (Hz) and level
#: relative to the F0 harmonic (dB) of F1-F3.
FORMANT_NAMES = tuple(f"f{k}_{what}" for k in (1, 2, 3)
                      for what in ("hz", "bandwidth_hz", "rel_amplitude_db"))


class AcousticFunctionals(AudioFrontEnd):
    """Acoustic functionals of audio clips, one row per clip, with librosa alone.

    Each clip is read (or taken as samples), downmixed to mono and resampled
    to ``sr``. One short-time Fourier transform gives the frame-level
    low-level descriptors (LLDs) below, each a contour over the clip's
    frames. Every LLD is summarised by the 18 functionals of
    :data:`FUNCTIONALS` and :data:`SHAPE_FUNCTIONALS`; with ``deltas`` the
    first time derivative of each LLD, as in ComParE [1]_, by the 12 of
    :data:`FUNCTIONALS`. The pitch contour adds its 18 functionals over
    voiced frames, then come the voiced fraction and the clip's duration.
    At the defaults a clip gives 3,020 features: 100 LLDs times 18, their
    deltas times 12, 18 of pitch, the voiced fraction and the log
    duration.

    LLDs (frames of ``window_ms`` every ``hop_ms``, Hamming window):

    - ``n_mels`` log-mel band energies (dB), ``fmin`` to ``fmax`` Hz
      (the spectral envelope of [2]_'s and Nguyen et al.'s front ends);
    - ``n_mfcc`` MFCCs 0 .. n_mfcc - 1 of the log-mel spectrum (ComParE [1]_
      uses 1-14, eGeMAPS [3]_ 1-4);
    - log energy (RMS in dB) and zero-crossing rate (ComParE [1]_);
    - spectral centroid, bandwidth, log flatness, and roll-off at 25, 50, 75
      and 90 % of the energy (ComParE's spectral LLDs [1]_, in Hz);
    - spectral contrast of octave bands from 200 Hz (Jiang et al. 2002 [4]_;
      7 values at 16 kHz).

    Functionals of each contour (``FUNCTIONALS``, after ComParE [1]_): mean,
    standard deviation, 1st / 25th / 50th / 75th / 99th percentiles,
    interquartile range, 1-99 % range, slope of the least-squares line (units
    per second), and mean absolute value and standard deviation of the
    frame-to-frame difference; for the LLDs and the pitch also
    (``SHAPE_FUNCTIONALS``, ComParE's [1]_) skewness, kurtosis and the
    up-level times, the fractions of frames above 25, 50, 75 and 90 % of the
    contour's range.

    Pitch (eGeMAPS [3]_): F0 in semitones above 27.5 Hz from pYIN [5]_
    (``f0_method="pyin"``, its voicing decision) or YIN [6]_ (``"yin"``, a
    frame counts as voiced within 30 dB of the loudest frame), every
    ``f0_hop_ms``; the 18 functionals over voiced frames (zeros when
    fewer than two frames are voiced) and the voiced fraction. Last, the
    natural log of the clip's duration in seconds.

    The transformer is stateless: :meth:`fit` only validates the parameters.

    Parameters
    ----------
    sr : int, default=16000
        Sample rate in Hz every clip is resampled to.
    input_sr : float or None, default=None
        Sample rate in Hz of the 1-D arrays in ``X``; None means ``sr``.
        Files are read at their own rate and ignore it.
    n_mels : int, default=64
        Log-mel bands (Nguyen et al. 2020, Sec. 3.2).
    n_mfcc : int, default=20
        MFCCs (0 to ``n_mfcc - 1``); 0 leaves them out.
    fmin, fmax : float, default=20.0, 8000.0
        Edges of the mel filter bank in Hz, ``0 <= fmin < fmax <= sr / 2``.
    window_ms, hop_ms : float, default=25.0, 10.0
        Analysis window and hop in milliseconds (ComParE's and the paper's).
    deltas : bool, default=True
        Also summarise each LLD's first time derivative (Savitzky-Golay,
        9 frames) by the 12 functionals of :data:`FUNCTIONALS`.
    f0_method : {"pyin", "yin", "none"}, default="pyin"
        Pitch tracker, or ``"none"`` for no pitch features (the voiced
        fraction and duration stay).
    f0_min, f0_max : float, default=60.0, 500.0
        Range of the pitch search in Hz (adult speech, emotional speech
        included), ``0 < f0_min < f0_max < sr / 2``.
    f0_hop_ms : float, default=40.0
        Hop of the pitch tracker in milliseconds. pYIN is by far the slowest
        part; 40 ms (25 pitch values per second) costs no accuracy on the
        source corpus where it was chosen (``benchmarks/RESULTS.md``).
    f0_resolution : float, default=0.5
        pYIN's pitch grid in semitones (librosa's default: 0.1); coarser is
        faster. Ignored by YIN.
    voice_quality : bool, default=False
        Also eGeMAPS' [3]_ spectral balance and voice quality descriptors:
        the alpha ratio, Hammarberg index and spectral slopes 0-500 Hz and
        500-1500 Hz as LLDs (18 functionals each, their deltas 12), the
        harmonics-to-noise ratio of every voiced pitch frame (18
        functionals; from the normalised autocorrelation at the pitch
        period) and the frame-level jitter and shimmer (mean and standard
        deviation of the relative period difference and of the peak level
        difference in dB between consecutive voiced pitch frames): 142
        features after the others. eGeMAPS measures jitter and shimmer per
        glottal cycle; these are per pitch frame (``f0_hop_ms``), a coarser
        measure of the same irregularity. Needs a pitch tracker and
        ``sr >= 10000``.
    loudness : bool, default=False
        Also a loudness contour as an LLD, eGeMAPS' [3]_ replacement of the
        energy: the sum over the mel bands of the band power raised to
        :data:`LOUDNESS_EXPONENT` (0.33, the cube-root intensity-to-loudness
        compression of openSMILE's auditory spectrum, after Stevens' power
        law), an approximation of the Zwicker loudness that openSMILE
        approximates in turn (mel bands instead of Bark bands, no
        equal-loudness weighting). Its 18 functionals, and with ``deltas``
        its delta's 12: 30 features after the others.
    temporal : bool, default=False
        Also eGeMAPS' [3]_ temporal (rhythm) features, 6 after the others:
        loudness peaks per second (local maxima of the 3-frame smoothed
        loudness contour above, with a prominence of at least
        :data:`LOUDNESS_PEAK_PROMINENCE` of its 99th percentile), continuous
        voiced regions per second, and the mean and standard deviation of
        the length in seconds of the voiced regions and of the unvoiced
        regions (pauses, leading and trailing silence included, as in
        eGeMAPS). Voicing is decided every ``hop_ms`` by autocorrelation
        (Boersma [8]_; :data:`VOICING_FRAME_SECONDS`,
        :data:`VOICING_THRESHOLD`, :data:`SILENCE_THRESHOLD`,
        :data:`VOICING_MEDIAN_FRAMES`) in the pitch range ``f0_min`` to
        ``f0_max``, not by the pitch tracker, whose 40 ms voicing is too
        coarse for syllables; needs a pitch tracker (for the range's
        sake, and to match the other voicing-based features).
    formants : bool, default=False
        Also the formants F1-F3 of every voiced pitch frame (eGeMAPS [3]_:
        frequency, bandwidth and amplitude relative to F0): a ``window_ms``
        Hamming frame at the pitch frame's centre, pre-emphasised from
        :data:`PREEMPHASIS_HZ` (Praat's), LPC of order ``2 + sr / 1000``
        (:data:`LPC_EXTRA_ORDER`; Burg's method, ``librosa.lpc``), the
        roots of the LPC polynomial as candidates (frequency ``angle * sr /
        2 pi``, bandwidth ``-ln|root| * sr / pi``), those below
        :data:`FORMANT_MIN_HZ` or wider than
        :data:`FORMANT_MAX_BANDWIDTH_HZ` discarded, the three lowest left
        being F1-F3 (Markel and Gray [7]_); the relative amplitude is the
        level (dB) of the strongest STFT bin within F0 / 2 of the formant
        minus that within F0 / 2 of F0, in the STFT frame nearest. The 18
        functionals of each of the 9 contours over the frames where it is
        defined: 162 features after the others. Needs a pitch tracker.
    n_jobs : int or None, default=None
        Clips processed in parallel with joblib; None means 1 unless in a
        :func:`joblib.parallel_backend` context, -1 means all processors.
    memory : str, path-like, joblib.Memory or None, default=None
        Cache of the per-clip extraction, keyed on a file's path, size and
        modification time (an array's content) and on every parameter above
        except ``n_jobs`` and ``memory``. None disables caching.

    See Also
    --------
    skpathnet.transformers.OpenSmileFunctionals : openSMILE's ComParE and
        eGeMAPS sets (research licence), the reference this front end
        replaces; same input handling and errors.
    skpathnet.transformers.GroupStandardScaler : speaker normalisation of
        these features.

    Notes
    -----
    How the set was chosen (``benchmarks/RESULTS.md``, "Speech front end
    without a research licence"): with a linear SVM on speaker-normalised
    features of RAVDESS (a source corpus, ``GroupKFold(4)`` over its
    actors), never on a target corpus. Features are computed in float64 and
    returned in float32; a functional that is undefined (a silent clip) is
    0.

    References
    ----------
    .. [1] B. Schuller et al., "The INTERSPEECH 2013 Computational
       Paralinguistics Challenge: Social Signals, Conflict, Emotion,
       Autism", Interspeech, 2013; F. Weninger et al., "On the acoustics of
       emotion in audio: what speech, music, and sound have in common",
       Frontiers in Psychology, 4:292, 2013 (the ComParE LLDs).
    .. [2] S. Zhang, S. Zhang, T. Huang and W. Gao, "Speech Emotion
       Recognition Using Deep Convolutional Neural Network and Discriminant
       Temporal Pyramid Matching", IEEE Transactions on Multimedia, 20(6),
       2018.
    .. [3] F. Eyben et al., "The Geneva Minimalistic Acoustic Parameter Set
       (GeMAPS) for Voice Research and Affective Computing", IEEE
       Transactions on Affective Computing, 7(2), pp. 190-202, 2016.
    .. [4] D.-N. Jiang et al., "Music type classification by spectral
       contrast feature", IEEE ICME, 2002.
    .. [5] M. Mauch and S. Dixon, "pYIN: A fundamental frequency estimator
       using probabilistic threshold distributions", IEEE ICASSP, 2014.
    .. [6] A. de Cheveigné and H. Kawahara, "YIN, a fundamental frequency
       estimator for speech and music", JASA, 111(4), 2002.
    .. [7] J. D. Markel and A. H. Gray, "Linear Prediction of Speech",
       Springer, 1976.
    .. [8] P. Boersma, "Accurate short-term analysis of the fundamental
       frequency and the harmonics-to-noise ratio of a sampled sound",
       Proceedings of the Institute of Phonetic Sciences, 17, pp. 97-110,
       1993.

    Examples
    --------
    >>> import numpy as np
    >>> from skpathnet.transformers import AcousticFunctionals
    >>> t = np.arange(16000) / 16000
    >>> tone = (0.5 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    >>> AcousticFunctionals().fit_transform([tone, tone]).shape
    (2, 3020)
    """

    def __init__(self, *, sr=16000, input_sr=None, n_mels=64, n_mfcc=20, fmin=20.0,
                 fmax=8000.0, window_ms=25.0, hop_ms=10.0, deltas=True, f0_method="pyin",
                 f0_min=60.0, f0_max=500.0, f0_hop_ms=40.0, f0_resolution=0.5,
                 voice_quality=False, loudness=False, temporal=False, formants=False,
                 n_jobs=None, memory=None):
        self.sr = sr
        self.input_sr = input_sr
        self.n_mels = n_mels
        self.n_mfcc = n_mfcc
        self.fmin = fmin
        self.fmax = fmax
        self.window_ms = window_ms
        self.hop_ms = hop_ms
        self.deltas = deltas
        self.f0_method = f0_method
        self.f0_min = f0_min
        self.f0_max = f0_max
        self.f0_hop_ms = f0_hop_ms
        self.f0_resolution = f0_resolution
        self.voice_quality = voice_quality
        self.loudness = loudness
        self.temporal = temporal
        self.formants = formants
        self.n_jobs = n_jobs
        self.memory = memory

    def transform(self, X):
        """Compute the functionals of each clip.

        Parameters
        ----------
        X : sequence of str, path-like or 1-D float ndarray, length n_clips
            Audio file paths (what libsndfile reads: WAV, FLAC, OGG, ...)
            and/or 1-D float arrays of mono samples at ``input_sr`` Hz.

        Returns
        -------
        features : ndarray of shape (n_clips, n_features), float32
            In the order of :meth:`get_feature_names_out`; 3,020 features at
            the defaults.

        Raises
        ------
        FileNotFoundError, OSError, ValueError
            As :meth:`LogMelSegmenter.transform
            <skpathnet.transformers.LogMelSegmenter.transform>`: a missing or
            undecodable file, a clip that is not 1-D float, shorter than the
            pitch tracker's frame (0.064 s; one window without pitch), or not
            finite (each message names the clip); an invalid parameter.
        """
        params = self._extraction_params()
        rows = extract_clips(_extract_functionals, X, memory=self.memory, n_jobs=self.n_jobs,
                             **params)
        return np.stack(rows).astype(np.float32, copy=False)

    def get_feature_names_out(self, input_features=None):
        """Names of the features, e.g. ``"mfcc3_delta_pctl75"`` or ``"f0_semitone_mean"``.

        Parameters
        ----------
        input_features : ignored

        Returns
        -------
        names : ndarray of str, shape (n_features,)
        """
        params = self._extraction_params()
        llds = _lld_names(params["n_mels"], params["n_mfcc"], _contrast_bands(params["sr"]))
        shape = FUNCTIONALS + SHAPE_FUNCTIONALS
        names = [f"{lld}_{func}" for lld in llds for func in shape]
        if params["deltas"]:
            names += [f"{lld}_delta_{func}" for lld in llds for func in FUNCTIONALS]
        if params["f0_method"] != "none":
            names += [f"f0_semitone_{func}" for func in shape]
        names += ["voiced_fraction", "log_duration"]
        if params["voice_quality"]:
            names += [f"{lld}_{func}" for lld in _BALANCE_NAMES for func in shape]
            names += [f"{lld}_delta_{func}" for lld in _BALANCE_NAMES for func in FUNCTIONALS]
            names += [f"hnr_{func}" for func in shape]
            names += ["jitter_mean", "jitter_std", "shimmer_db_mean", "shimmer_db_std"]
        if params["loudness"]:
            names += [f"loudness_{func}" for func in shape]
            if params["deltas"]:
                names += [f"loudness_delta_{func}" for func in FUNCTIONALS]
        if params["temporal"]:
            names += list(TEMPORAL_NAMES)
        if params["formants"]:
            names += [f"{lld}_{func}" for lld in FORMANT_NAMES for func in shape]
        return np.asarray(names, dtype=object)

    def _extraction_params(self):
        """Validate the parameters; return them in samples, as keywords of the extractor."""
        sr = int(check_number("sr", self.sr, integral=True, minimum=1))
        input_sr = None
        if self.input_sr is not None:
            input_sr = float(check_number("input_sr", self.input_sr, minimum=0, strict=True))
        n_mels = int(check_number("n_mels", self.n_mels, integral=True, minimum=1))
        n_mfcc = int(check_number("n_mfcc", self.n_mfcc, integral=True, minimum=0))
        if n_mfcc > n_mels:
            raise ValueError(
                f"n_mfcc={self.n_mfcc!r} is invalid: at most n_mels={n_mels} coefficients "
                f"come from {n_mels} log-mel bands."
            )
        fmin, fmax = check_band(self.fmin, self.fmax, sr)
        win_length, hop_length, n_fft = frame_lengths(self.window_ms, self.hop_ms, sr)
        if _contrast_bands(sr) < 1:
            raise ValueError(
                f"sr={sr} is too low: spectral contrast needs the octave band above "
                f"{CONTRAST_FMIN:g} Hz below the Nyquist frequency; use sr >= 800."
            )
        if not isinstance(self.deltas, (bool, np.bool_)):
            raise ValueError(f"deltas={self.deltas!r} is invalid: expected True or False.")
        if not (isinstance(self.f0_method, str) and self.f0_method in F0_METHODS):
            raise ValueError(
                f"f0_method={self.f0_method!r} is invalid: choose one of {list(F0_METHODS)}."
            )
        f0_min = float(check_number("f0_min", self.f0_min, minimum=0, strict=True))
        f0_max = float(check_number("f0_max", self.f0_max, minimum=0, strict=True))
        if not f0_min < f0_max < sr / 2:
            raise ValueError(
                f"f0_min={self.f0_min!r} and f0_max={self.f0_max!r} are invalid: expected "
                f"0 < f0_min < f0_max < sr / 2 = {sr / 2:g} Hz."
            )
        f0_hop_ms = check_number("f0_hop_ms", self.f0_hop_ms, minimum=0, strict=True)
        f0_resolution = float(
            check_number("f0_resolution", self.f0_resolution, minimum=0, strict=True))
        f0_frame = int(2 ** math.ceil(math.log2(F0_FRAME_SECONDS * sr)))
        if f0_frame * f0_min / sr < 2 and self.f0_method != "none":
            raise ValueError(
                f"f0_min={self.f0_min!r} is too low: two periods must fit the pitch "
                f"tracker's frame of {f0_frame} samples at sr={sr}; use f0_min >= "
                f"{math.ceil(2 * sr / f0_frame)} Hz."
            )
        if not isinstance(self.voice_quality, (bool, np.bool_)):
            raise ValueError(
                f"voice_quality={self.voice_quality!r} is invalid: expected True or False.")
        if self.voice_quality and self.f0_method == "none":
            raise ValueError('voice_quality=True needs a pitch tracker: f0_method="pyin" or '
                             '"yin", not "none".')
        if self.voice_quality and sr < 2 * ALPHA_BANDS[1][1]:
            raise ValueError(f"voice_quality=True needs sr >= {2 * ALPHA_BANDS[1][1]:g} (its "
                             f"bands reach {ALPHA_BANDS[1][1]:g} Hz); got sr={sr}.")
        for option in ("loudness", "temporal", "formants"):
            value = getattr(self, option)
            if not isinstance(value, (bool, np.bool_)):
                raise ValueError(f"{option}={value!r} is invalid: expected True or False.")
            if option != "loudness" and value and self.f0_method == "none":
                raise ValueError(f'{option}=True needs a pitch tracker: f0_method="pyin" or '
                                 f'"yin", not "none".')
        if not (self.n_jobs is None or isinstance(self.n_jobs, numbers.Integral)):
            raise ValueError(f"n_jobs={self.n_jobs!r} is invalid: expected an int or None.")
        return dict(
            sr=sr, input_sr=input_sr, n_mels=n_mels, n_mfcc=n_mfcc, fmin=fmin, fmax=fmax,
            win_length=win_length, hop_length=hop_length, n_fft=n_fft, deltas=bool(self.deltas),
            f0_method=self.f0_method, f0_min=f0_min, f0_max=f0_max,
            f0_hop=max(1, round(sr * f0_hop_ms / 1000)), f0_frame=f0_frame,
            f0_resolution=f0_resolution, voice_quality=bool(self.voice_quality),
            loudness=bool(self.loudness), temporal=bool(self.temporal),
            formants=bool(self.formants), version=DEFINITION_VERSION,
        )


def _contrast_bands(sr):
    """Octave bands of spectral contrast above 200 Hz that fit below sr / 2 (at most 6)."""
    if sr / 2 <= CONTRAST_FMIN:
        return 0
    return int(min(6, math.floor(math.log2(sr / 2 / CONTRAST_FMIN)) + 1))


def _lld_names(n_mels, n_mfcc, n_bands):
    return ([f"logmel{k}" for k in range(n_mels)] + [f"mfcc{k}" for k in range(n_mfcc)]
            + ["log_energy", "zcr", "spectral_centroid", "spectral_bandwidth",
               "log_spectral_flatness"]
            + [f"rolloff{round(100 * p)}" for p in ROLLOFF_POINTS]
            + [f"spectral_contrast{k}" for k in range(n_bands + 1)])


def contour_functionals(contours, frame_seconds, *, shape=False):
    """The functionals of :data:`FUNCTIONALS` (and :data:`SHAPE_FUNCTIONALS`) of each contour.

    Parameters
    ----------
    contours : ndarray of shape (n_contours, n_frames), float
        One LLD per row, frames in time order; ``n_frames >= 1``.
    frame_seconds : float
        Time between frames in seconds (the slope is per second).
    shape : bool, default=False
        Also the shape functionals: skewness, kurtosis, up-level times.

    Returns
    -------
    functionals : ndarray of shape (n_contours, 12) or (n_contours, 18), float64
        Columns in the order of :data:`FUNCTIONALS`, then
        :data:`SHAPE_FUNCTIONALS`. A constant contour (one frame included)
        has standard deviations, ranges, slope, differences, skewness,
        kurtosis and up-level times of 0.
    """
    contours = np.asarray(contours, dtype=np.float64)
    n_frames = contours.shape[1]
    mean = contours.mean(axis=1)
    pctl = np.percentile(contours, [1, 25, 50, 75, 99], axis=1)
    t = (np.arange(n_frames) - (n_frames - 1) / 2) * frame_seconds
    t_norm = float(t @ t)
    slope = (contours - mean[:, None]) @ t / t_norm if t_norm > 0 else np.zeros_like(mean)
    if n_frames > 1:
        diff = np.diff(contours, axis=1)
        mean_abs_diff, std_diff = np.abs(diff).mean(axis=1), diff.std(axis=1)
    else:
        mean_abs_diff = std_diff = np.zeros_like(mean)
    columns = [mean, contours.std(axis=1), *pctl, pctl[3] - pctl[1], pctl[4] - pctl[0], slope,
               mean_abs_diff, std_diff]
    if shape:
        low, high = contours.min(axis=1), contours.max(axis=1)
        spread = high - low
        constant = spread <= 1e-12 * np.maximum(1.0, np.abs(high))
        level = (contours - low[:, None]) / np.where(constant, 1.0, spread)[:, None]
        with warnings.catch_warnings():  # scipy warns of nearly constant contours
            warnings.simplefilter("ignore", RuntimeWarning)
            moments = [stats.skew(contours, axis=1), stats.kurtosis(contours, axis=1)]
        columns += [np.where(constant, 0.0, m) for m in moments]
        columns += [(level > point).mean(axis=1) for point in UPLEVEL_POINTS]
    return np.column_stack(columns)


def _extract_functionals(clip, name, stamp, *, sr, input_sr, n_mels, n_mfcc, fmin, fmax,
                         win_length, hop_length, n_fft, deltas, f0_method, f0_min, f0_max,
                         f0_hop, f0_frame, f0_resolution, voice_quality, version,
                         loudness=False, temporal=False, formants=False):
    """Features of one clip: float64 ndarray of shape (n_features,).

    ``name`` only phrases error messages; ``stamp`` and ``version``
    (:data:`DEFINITION_VERSION`) only key the cache.
    """
    min_samples = f0_frame if f0_method != "none" else win_length
    y, rate = load_clip(
        clip, name, rate=input_sr if input_sr is not None else sr, min_seconds=min_samples / sr,
        too_short=f"acoustic functionals need at least {min_samples / sr:g} s (the "
        f"{'pitch tracker' if f0_method != 'none' else 'analysis'} frame)")
    y = np.asarray(y, dtype=np.float64)
    if rate != sr:
        y = librosa.resample(y, orig_sr=rate, target_sr=sr)
    magnitude = np.abs(librosa.stft(y, n_fft=n_fft, hop_length=hop_length,
                                    win_length=win_length, window="hamming", center=True,
                                    pad_mode="constant"))
    power = magnitude ** 2
    n_frames = magnitude.shape[1]
    mel_basis = librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax)
    mel_power = mel_basis @ power
    log_mel = librosa.power_to_db(mel_power, ref=1.0, amin=1e-10, top_db=None)
    rms = librosa.feature.rms(S=magnitude, frame_length=n_fft)
    contours = [
        log_mel,
        librosa.feature.mfcc(S=log_mel, n_mfcc=n_mfcc) if n_mfcc else np.empty((0, n_frames)),
        librosa.amplitude_to_db(rms, ref=1.0, amin=1e-5, top_db=None),
        librosa.feature.zero_crossing_rate(y, frame_length=win_length,
                                           hop_length=hop_length)[:, :n_frames],
        librosa.feature.spectral_centroid(S=magnitude, sr=sr, n_fft=n_fft),
        librosa.feature.spectral_bandwidth(S=magnitude, sr=sr, n_fft=n_fft),
        np.log10(librosa.feature.spectral_flatness(S=magnitude, amin=1e-10) + 1e-10),
        *(librosa.feature.spectral_rolloff(S=magnitude, sr=sr, n_fft=n_fft, roll_percent=p)
          for p in ROLLOFF_POINTS),
        librosa.feature.spectral_contrast(S=magnitude, sr=sr, n_fft=n_fft,
                                          fmin=CONTRAST_FMIN, n_bands=_contrast_bands(sr)),
    ]
    contours = np.vstack(contours)
    frame_seconds = hop_length / sr
    parts = [contour_functionals(contours, frame_seconds, shape=True).ravel()]
    if deltas:
        delta = librosa.feature.delta(contours, width=DELTA_WIDTH, mode="nearest")
        parts.append(contour_functionals(delta, frame_seconds).ravel())
    if f0_method != "none":
        semitones, voiced = _pitch(y, sr=sr, method=f0_method, f0_min=f0_min, f0_max=f0_max,
                                   hop=f0_hop, frame=f0_frame, resolution=f0_resolution)
        if voiced.sum() >= 2:
            parts.append(contour_functionals(semitones[voiced][None], f0_hop / sr,
                                             shape=True).ravel())
        else:
            parts.append(np.zeros(len(FUNCTIONALS) + len(SHAPE_FUNCTIONALS)))
        voiced_fraction = voiced.mean()
    else:
        voiced_fraction = 0.0
    parts.append([voiced_fraction, math.log(y.size / sr)])
    if voice_quality:
        balance = _spectral_balance(power, librosa.fft_frequencies(sr=sr, n_fft=n_fft))
        parts.append(contour_functionals(balance, frame_seconds, shape=True).ravel())
        parts.append(contour_functionals(
            librosa.feature.delta(balance, width=DELTA_WIDTH, mode="nearest"),
            frame_seconds).ravel())
        parts.append(_voice_quality(y, semitones, voiced, sr=sr, hop=f0_hop, frame=f0_frame))
    if loudness or temporal:
        loud = (mel_power ** LOUDNESS_EXPONENT).sum(axis=0)[None]
    if loudness:
        parts.append(contour_functionals(loud, frame_seconds, shape=True).ravel())
        if deltas:
            parts.append(contour_functionals(
                librosa.feature.delta(loud, width=DELTA_WIDTH, mode="nearest"),
                frame_seconds).ravel())
    if temporal:
        frame_voiced = _frame_voicing(y, sr=sr, f0_min=f0_min, f0_max=f0_max,
                                      hop=hop_length)[:n_frames]
        parts.append(_temporal(loud[0], frame_voiced, frame_seconds=frame_seconds,
                               voicing_seconds=frame_seconds, duration=y.size / sr))
    if formants:
        parts.append(_formants(y, power, semitones, voiced, sr=sr, hop=f0_hop,
                               win_length=win_length, stft_hop=hop_length, n_fft=n_fft))
    return np.nan_to_num(np.concatenate(parts), nan=0.0, posinf=0.0, neginf=0.0)


_BALANCE_NAMES = ("alpha_ratio", "hammarberg_index", "spectral_slope0_500",
                  "spectral_slope500_1500")


def _spectral_balance(power, freqs):
    """eGeMAPS' spectral balance LLDs per frame: shape (4, n_frames), dB and dB/kHz."""
    eps = 1e-10

    def band(lo, hi):
        return (freqs >= lo) & (freqs < hi)

    (a_lo, a_hi), (h_lo, h_hi) = ALPHA_BANDS, HAMMARBERG_BANDS
    rows = [10 * np.log10((power[band(*a_lo)].sum(0) + eps) / (power[band(*a_hi)].sum(0) + eps)),
            10 * np.log10((power[band(*h_lo)].max(0) + eps) / (power[band(*h_hi)].max(0) + eps))]
    for lo, hi in SLOPE_BANDS:  # least-squares slope of the dB spectrum, dB per kHz
        f = freqs[band(lo, hi)] / 1000.0
        level = 10 * np.log10(power[band(lo, hi)] + eps)
        fc = f - f.mean()
        rows.append(fc @ (level - level.mean(0)) / (fc @ fc))
    return np.vstack(rows)


def _voice_quality(y, semitones, voiced, *, sr, hop, frame):
    """HNR functionals over voiced pitch frames, then jitter and shimmer: 22 values."""
    f0 = F0_REFERENCE_HZ * 2.0 ** (semitones / 12.0)
    frames = librosa.util.frame(np.pad(y, frame // 2), frame_length=frame, hop_length=hop)
    n = min(frames.shape[1], len(voiced))
    hnr, periods, peaks, index = [], [], [], []
    for t in np.flatnonzero(voiced[:n]):
        x = frames[:, t] - frames[:, t].mean()
        lag = int(round(sr / f0[t]))
        energy = float(x @ x)
        if not 0 < lag < frame // 2 or energy <= 0:
            continue
        # normalised autocorrelation at the period, corrected for the shorter overlap
        r = float(x[:-lag] @ x[lag:]) / energy * frame / (frame - lag)
        r = min(max(r, 1e-4), 1 - 1e-4)
        hnr.append(10 * math.log10(r / (1 - r)))
        periods.append(1.0 / f0[t])
        peaks.append(20 * math.log10(max(np.abs(x).max(), 1e-10)))
        index.append(t)
    shape = len(FUNCTIONALS) + len(SHAPE_FUNCTIONALS)
    out = [contour_functionals(np.asarray(hnr)[None], hop / sr, shape=True).ravel()
           if len(hnr) >= 2 else np.zeros(shape)]
    adjacent = np.flatnonzero(np.diff(index) == 1)  # consecutive voiced frames
    periods, peaks = np.asarray(periods), np.asarray(peaks)
    jitter = np.abs(np.diff(periods))[adjacent] / periods.mean() if len(adjacent) else []
    shimmer = np.abs(np.diff(peaks))[adjacent] if len(adjacent) else []
    for values in (jitter, shimmer):
        out.append([np.mean(values), np.std(values)] if len(values) else [0.0, 0.0])
    return np.concatenate(out)


def _pitch(y, *, sr, method, f0_min, f0_max, hop, frame, resolution):
    """F0 in semitones above 27.5 Hz and the voiced frames (bool), every ``hop`` samples."""
    if method == "pyin":
        f0, voiced, _ = librosa.pyin(y, fmin=f0_min, fmax=f0_max, sr=sr, frame_length=frame,
                                     hop_length=hop, resolution=resolution,
                                     center=True, pad_mode="constant")
        voiced = voiced & np.isfinite(f0)
    else:
        f0 = librosa.yin(y, fmin=f0_min, fmax=f0_max, sr=sr, frame_length=frame,
                         hop_length=hop, center=True, pad_mode="constant")
        energy = librosa.feature.rms(y=y, frame_length=frame, hop_length=hop, center=True,
                                     pad_mode="constant")[0, :len(f0)]
        voiced = energy > energy.max() * 10 ** (-YIN_GATE_DB / 20)
    semitones = 12 * np.log2(np.where(voiced, f0, F0_REFERENCE_HZ) / F0_REFERENCE_HZ)
    return semitones, voiced


def _runs(mask):
    """Lengths (frames) of the runs of True in a 1-D bool array, and their start indices."""
    mask = np.asarray(mask, dtype=bool)
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    return ends - starts, starts


def _temporal(loudness, voiced, *, frame_seconds, voicing_seconds, duration):
    """eGeMAPS' temporal features (:data:`TEMPORAL_NAMES`) of one clip: 6 values."""
    from scipy.signal import find_peaks

    smooth = np.convolve(np.pad(loudness, 1, mode="edge"), np.ones(3) / 3, mode="valid")
    loud = np.percentile(smooth, 99)
    peaks = []
    if loud > 0:
        peaks, _ = find_peaks(smooth, prominence=LOUDNESS_PEAK_PROMINENCE * loud)
    voiced_runs, _ = _runs(voiced)
    unvoiced_runs, _ = _runs(~np.asarray(voiced, dtype=bool))

    def mean_std(runs):
        seconds = runs * voicing_seconds
        return [seconds.mean(), seconds.std()] if len(seconds) else [0.0, 0.0]

    return np.array([len(peaks) / duration, len(voiced_runs) / duration,
                     *mean_std(voiced_runs), *mean_std(unvoiced_runs)])


def _frame_voicing(y, *, sr, f0_min, f0_max, hop):
    """Voiced frames (bool) every ``hop`` samples, centred as the STFT's: the
    autocorrelation method of :data:`VOICING_FRAME_SECONDS` and the thresholds after it."""
    from scipy.ndimage import median_filter

    frame = int(round(VOICING_FRAME_SECONDS * sr))
    lo, hi = max(1, int(sr / f0_max)), min(frame - 1, int(math.ceil(sr / f0_min)))
    n_fft = int(2 ** math.ceil(math.log2(frame + hi + 1)))  # no circular wrap up to ``hi``
    window = np.hanning(frame)
    power = np.abs(librosa.stft(y, n_fft=n_fft, hop_length=hop, win_length=frame,
                                window=window, center=True, pad_mode="constant")) ** 2
    r = np.fft.irfft(power, n=n_fft, axis=0)[:hi + 1]
    r_window = np.fft.irfft(np.abs(np.fft.rfft(window, n_fft)) ** 2, n=n_fft)[:hi + 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        normalised = r[lo:] / r[0] / (r_window[lo:] / r_window[0])[:, None]
    strength = np.nan_to_num(normalised, nan=0.0).max(axis=0)
    rms = np.sqrt(np.maximum(r[0], 0.0) / (window @ window))
    voiced = (strength > VOICING_THRESHOLD) & (rms > SILENCE_THRESHOLD * rms.max())
    return median_filter(voiced.astype(np.int8), size=VOICING_MEDIAN_FRAMES,
                         mode="nearest").astype(bool)


def _lpc_roots(coefficients):
    """Roots of each LPC polynomial (rows ``[1, a1, ..., ap]``): the eigenvalues of
    their companion matrices, shape (n, p), complex."""
    n, p = coefficients.shape[0], coefficients.shape[1] - 1
    companion = np.zeros((n, p, p))
    companion[:, 0, :] = -coefficients[:, 1:]
    companion[:, np.arange(1, p), np.arange(p - 1)] = 1.0
    return np.linalg.eigvals(companion)


def _formants(y, power, semitones, voiced, *, sr, hop, win_length, stft_hop, n_fft):
    """F1-F3 frequency, bandwidth and relative amplitude (:data:`FORMANT_NAMES`) over
    the voiced pitch frames: their 18 functionals each, 162 values."""
    n_func = len(FUNCTIONALS) + len(SHAPE_FUNCTIONALS)
    empty = np.zeros(len(FORMANT_NAMES) * n_func)
    order = LPC_EXTRA_ORDER + int(round(sr / 1000))
    emphasised = np.append(y[0], y[1:] - math.exp(-2 * math.pi * PREEMPHASIS_HZ / sr) * y[:-1])
    padded = np.pad(emphasised, win_length // 2)
    index = np.flatnonzero(voiced)
    index = index[index * hop < y.size]
    if len(index) < 2:
        return empty
    frames = padded[(index * hop)[:, None] + np.arange(win_length)] * np.hamming(win_length)
    energetic = (frames ** 2).sum(axis=1) > 1e-10 * win_length
    index, frames = index[energetic], frames[energetic]
    if len(index) < 2:
        return empty
    with np.errstate(all="ignore"):
        try:
            coefficients = librosa.lpc(frames, order=order, axis=-1)
        except (FloatingPointError, librosa.util.exceptions.ParameterError):
            return empty
    finite = np.all(np.isfinite(coefficients), axis=1)
    index, coefficients = index[finite], coefficients[finite]
    if len(index) < 2:
        return empty
    roots = _lpc_roots(coefficients)
    freq = np.angle(roots) * sr / (2 * np.pi)
    with np.errstate(divide="ignore"):
        bandwidth = -np.log(np.abs(roots)) * sr / np.pi
    candidate = ((roots.imag > 0) & (freq >= FORMANT_MIN_HZ)
                 & (bandwidth <= FORMANT_MAX_BANDWIDTH_HZ) & (bandwidth > 0))
    freq = np.where(candidate, freq, np.inf)
    ranked = np.argsort(freq, axis=1)[:, :3]
    f = np.take_along_axis(freq, ranked, axis=1)
    b = np.take_along_axis(bandwidth, ranked, axis=1)
    found = np.isfinite(f)
    f, b = np.where(found, f, np.nan), np.where(found, b, np.nan)
    # amplitude of each formant's harmonic relative to F0's, from the nearest STFT frame
    f0 = F0_REFERENCE_HZ * 2.0 ** (semitones[index] / 12.0)
    columns = np.clip(np.rint(index * hop / stft_hop).astype(int), 0, power.shape[1] - 1)
    bins = np.arange(power.shape[0]) * sr / n_fft
    level = 10 * np.log10(power[:, columns].T + 1e-10)  # (n_frames, n_bins)

    half = np.maximum(f0, 2 * sr / n_fft)[:, None] / 2  # F0 / 2, at least one bin

    def peak(centre):  # strongest bin within F0 / 2 of ``centre`` (n_frames,) Hz
        near = np.abs(bins[None, :] - centre[:, None]) <= half
        return np.where(near.any(axis=1), np.max(np.where(near, level, -np.inf), axis=1), np.nan)

    reference = peak(f0)
    relative = np.column_stack([peak(np.nan_to_num(f[:, k], nan=-1e9)) - reference
                                for k in range(3)])
    relative[~found] = np.nan
    out = []
    for k in range(3):
        for contour in (f[:, k], b[:, k], relative[:, k]):
            values = contour[np.isfinite(contour)]
            out.append(contour_functionals(values[None], hop / sr, shape=True).ravel()
                       if len(values) >= 2 else np.zeros(n_func))
    return np.concatenate(out)
