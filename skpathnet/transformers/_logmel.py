"""Audio front end: three-channel log-mel segments (static, delta, delta-delta).

An audio clip becomes a variable number of ``(3, 64, 64)`` images, as in
Sec. 3.2 of Nguyen et al. (2020), who follow Zhang et al. (2018). The output
follows the ragged per-clip convention of :mod:`skpathnet.utils`.
"""

import numbers

import librosa
import numpy as np

from ..utils._clips import make_clips
from ._audio import (
    AudioFrontEnd, check_band, check_number, extract_clips, frame_lengths, load_clip,
)

__all__ = ["LogMelSegmenter"]

#: Width (frames) of librosa's Savitzky-Golay delta filter, its default.
DELTA_WIDTH = 9


class LogMelSegmenter(AudioFrontEnd):
    """Cut audio clips into three-channel log-mel segments of 64 x 64.

    Each clip is resampled to ``sr``, turned into a log-power mel
    spectrogram (in dB) with its first and second time derivatives, and cut
    into overlapping segments of ``segment_frames`` frames, as in Sec. 3.2 of
    [1]_ after [2]_. Every default below is the value used there.

    The transformer is stateless: :meth:`fit` only validates the parameters.

    Parameters
    ----------
    sr : int, default=16000
        Target sample rate in Hz: every clip is resampled to it [1]_.
    input_sr : float or None, default=None
        Sample rate in Hz of the 1-D arrays in ``X``; None means they are
        already at ``sr``. Files are read at their own rate and ignore it.
    n_mels : int, default=64
        Number of mel filters, i.e. image height [1]_ [2]_.
    fmin : float, default=20.0
        Lowest mel filter edge in Hz [2]_.
    fmax : float, default=8000.0
        Highest mel filter edge in Hz, at most ``sr / 2`` [2]_.
    window_ms : float, default=25.0
        Length of the Hamming analysis window in milliseconds [1]_ [2]_.
        The FFT size is the smallest power of two that holds the window
        (512 samples at the defaults).
    hop_ms : float, default=10.0
        Hop between frames in milliseconds [1]_ [2]_.
    segment_frames : int, default=64
        Frames per segment, i.e. image width [1]_ [2]_; at least 9 (the
        width of the delta filter).
    segment_overlap : int, default=30
        Frames shared by consecutive segments [1]_ [2]_, so segments start
        every ``segment_frames - segment_overlap`` frames (34 at the
        defaults); ``0 <= segment_overlap < segment_frames``.
    n_jobs : int or None, default=None
        Clips processed in parallel with joblib; None means 1 unless in a
        :func:`joblib.parallel_backend` context, -1 means all processors.
    memory : str, path-like, joblib.Memory or None, default=None
        Cache of the per-clip extraction. A file is keyed on its path, size
        and modification time, an array on its content, and both on every
        parameter above except ``n_jobs`` and ``memory``. None disables
        caching.

    See Also
    --------
    skpathnet.FaceCropper : The visual front end, with the same output layout.

    Notes
    -----
    **Features.** Samples are downmixed to mono and resampled to ``sr`` with
    :func:`librosa.resample`. :func:`librosa.feature.melspectrogram` computes
    the power (``power=2``) mel spectrogram with a centred Hamming window of
    ``round(sr * window_ms / 1000)`` samples, a hop of
    ``hop = round(sr * hop_ms / 1000)`` samples (160 at the defaults), zero
    padding at the edges (``center=True, pad_mode="constant"``) and Slaney
    mel filters. :func:`librosa.power_to_db` turns it into dB with
    ``ref=1.0, amin=1e-10, top_db=80`` (librosa's defaults: values lie in
    ``[max - 80, max]`` dB, at least -100 dB). The delta and delta-delta
    channels are :func:`librosa.feature.delta` (``width=9``, ``order=1`` and
    ``2``) of the whole clip's log-mel spectrogram, computed before cutting
    so that segment edges carry true derivatives.

    **Segments.** A clip of ``n_samples`` samples at ``sr`` gives
    ``n = 1 + n_samples // hop`` frames. A clip shorter than one segment
    (``n < segment_frames``, i.e. under ``(segment_frames - 1) * hop``
    samples = 0.63 s at the defaults) is padded at its end with zeros
    (silence) up to that many samples, so it gives exactly one segment whose
    last frames sit at the dB floor. Segments start at frames
    ``0, step, 2 * step, ...`` with ``step = segment_frames - segment_overlap``
    while they fit; if frames remain after the last one, a final segment
    aligned to the clip's end is added (it overlaps its predecessor more),
    so no audio is dropped. A clip of ``n >= segment_frames`` frames thus
    gives::

        n_segments = 1 + ceil((n - segment_frames) / step)

    e.g. 1 segment for 64 frames, 2 for 98, 3 for 99 to 132 at the defaults.

    **Silence.** An all-zero clip is valid: its static channel is -100 dB
    everywhere and its deltas are 0, so the output is finite.

    Examples
    --------
    >>> import numpy as np
    >>> from skpathnet import LogMelSegmenter
    >>> t = np.arange(16000) / 16000
    >>> tone = (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    >>> clips = LogMelSegmenter().fit_transform([tone, tone[:8000]])
    >>> clips.shape, clips[0].shape, clips[1].shape
    ((2,), (3, 3, 64, 64), (1, 3, 64, 64))

    References
    ----------
    .. [1] D. Nguyen, S. Sridharan, D. T. Nguyen, S. Denman, D. Dean and
       C. Fookes, "Meta Transfer Learning for Emotion Recognition",
       arXiv:2006.13211, 2020, Sec. 3.2.
    .. [2] S. Zhang, S. Zhang, T. Huang and W. Gao, "Speech Emotion
       Recognition Using Deep Convolutional Neural Network and Discriminant
       Temporal Pyramid Matching", IEEE Transactions on Multimedia, 20(6),
       pp. 1576-1590, 2018.
    """

    def __init__(
        self,
        *,
        sr=16000,
        input_sr=None,
        n_mels=64,
        fmin=20.0,
        fmax=8000.0,
        window_ms=25.0,
        hop_ms=10.0,
        segment_frames=64,
        segment_overlap=30,
        n_jobs=None,
        memory=None,
    ):
        self.sr = sr
        self.input_sr = input_sr
        self.n_mels = n_mels
        self.fmin = fmin
        self.fmax = fmax
        self.window_ms = window_ms
        self.hop_ms = hop_ms
        self.segment_frames = segment_frames
        self.segment_overlap = segment_overlap
        self.n_jobs = n_jobs
        self.memory = memory

    def transform(self, X):
        """Turn each clip into its log-mel segments.

        Parameters
        ----------
        X : sequence of str, path-like or 1-D float ndarray, length n_clips
            A list, tuple or 1-D array of audio file paths (any format
            libsndfile reads: WAV, FLAC, OGG, ...) and/or 1-D float arrays
            of mono samples at ``input_sr`` Hz (nominally in [-1, 1]).

        Returns
        -------
        clips : ndarray of dtype object and shape (n_clips,)
            Item ``i`` is a float32 ndarray of shape
            ``(n_segments_i, 3, n_mels, segment_frames)``, i.e.
            ``(n_segments_i, 3, 64, 64)`` at the defaults: channels
            (static log-mel in dB, delta, delta-delta), mel bands from low
            to high frequency, frames in time order. See Notes of the class
            for ``n_segments_i``.

        Raises
        ------
        FileNotFoundError
            If a path does not name an existing file; the message names it.
        OSError
            If a file cannot be decoded; the message names the file.
        ValueError
            If ``X`` is not a sequence of clips, a clip is not 1-D float,
            is empty or shorter than one analysis window (the message gives
            the minimum in seconds), or holds NaN or infinite samples (the
            message names the clip), or a parameter is invalid.
        """
        params = self._extraction_params()
        return make_clips(
            extract_clips(_extract_clip, X, memory=self.memory, n_jobs=self.n_jobs, **params)
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = []  # float32 segments, whatever the input
        return tags

    def _extraction_params(self):
        """Validate the parameters and return them in samples and frames."""
        sr = check_number("sr", self.sr, integral=True, minimum=1)
        input_sr = sr
        if self.input_sr is not None:
            input_sr = check_number("input_sr", self.input_sr, minimum=0, strict=True)
        n_mels = check_number("n_mels", self.n_mels, integral=True, minimum=1)
        fmin, fmax = check_band(self.fmin, self.fmax, sr)
        win_length, hop_length, n_fft = frame_lengths(self.window_ms, self.hop_ms, sr)
        segment_frames = check_number(
            "segment_frames", self.segment_frames, integral=True, minimum=DELTA_WIDTH
        )
        segment_overlap = check_number(
            "segment_overlap", self.segment_overlap, integral=True, minimum=0
        )
        if segment_overlap >= segment_frames:
            raise ValueError(
                f"segment_overlap={self.segment_overlap!r} is invalid: it must be "
                f"smaller than segment_frames={self.segment_frames!r}."
            )
        if not (self.n_jobs is None or isinstance(self.n_jobs, numbers.Integral)):
            raise ValueError(f"n_jobs={self.n_jobs!r} is invalid: expected an int or None.")
        return dict(
            sr=int(sr),
            input_sr=input_sr,
            n_mels=int(n_mels),
            fmin=fmin,
            fmax=fmax,
            win_length=win_length,
            hop_length=hop_length,
            n_fft=n_fft,
            segment_frames=int(segment_frames),
            segment_step=int(segment_frames - segment_overlap),
        )


def _extract_clip(
    clip,
    name,
    stamp,
    *,
    sr,
    input_sr,
    n_mels,
    fmin,
    fmax,
    win_length,
    hop_length,
    n_fft,
    segment_frames,
    segment_step,
):
    """Compute the segments of one clip (a path or a 1-D float array).

    ``name`` only phrases error messages and ``stamp`` (a file's size and
    modification time) only keys the cache. Returns a float32 ndarray of
    shape (n_segments, 3, n_mels, segment_frames).
    """
    min_seconds = win_length / sr
    y, rate = load_clip(clip, name, rate=input_sr, min_seconds=min_seconds,
                        too_short=f"a clip must last at least {min_seconds:g} s (one analysis "
                        f"window)")
    y = y.astype(np.float64)  # features in float64, output rounded to float32
    if rate != sr:
        y = librosa.resample(y, orig_sr=rate, target_sr=sr)
    min_samples = (segment_frames - 1) * hop_length
    if y.size < min_samples:
        y = np.pad(y, (0, min_samples - y.size))
    mel = librosa.feature.melspectrogram(
        y=y,
        sr=sr,
        n_fft=n_fft,
        hop_length=hop_length,
        win_length=win_length,
        window="hamming",
        center=True,
        pad_mode="constant",
        power=2.0,
        n_mels=n_mels,
        fmin=fmin,
        fmax=fmax,
    )
    static = librosa.power_to_db(mel, ref=1.0, amin=1e-10, top_db=80.0)
    channels = np.stack(
        [
            static,
            librosa.feature.delta(static, width=DELTA_WIDTH, order=1),
            librosa.feature.delta(static, width=DELTA_WIDTH, order=2),
        ]
    ).astype(np.float32)
    n_frames = channels.shape[-1]
    starts = list(range(0, n_frames - segment_frames + 1, segment_step))
    if starts[-1] + segment_frames < n_frames:
        starts.append(n_frames - segment_frames)
    return np.stack([channels[:, :, s : s + segment_frames] for s in starts])
