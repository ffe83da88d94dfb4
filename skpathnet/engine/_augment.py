"""Training-time data augmentation of image-shaped mini-batches (torch only).

:func:`~._sgd.run_steps` applies a :class:`SpecAugment` (log-mel segments)
or a :class:`FaceAugment` (face crops), given as
:attr:`~._sgd.TrainSettings.augmentation`, to each mini-batch before the SGD
step: a fresh random variant of every sample each time it is drawn. Both take
a batch of shape ``(batch, C, H, W)`` and a :class:`torch.Generator` on the
batch's device, and return a new tensor of the same shape and dtype (the
training data are never modified). Each draws its random numbers for the
whole batch at once (a Python loop runs over masks only, never over samples).

Inputs are standardised by :class:`~skpathnet.PathNetClassifier`
(``standardize=True``: each feature has training mean 0 and standard
deviation 1), so the value 0 that masks and padding write is each feature's
training mean: masked or padded positions carry no information, rather than
a loud or quiet signal. Without standardisation 0 is the raw value 0 (0 dB
for log-mel features).

References
----------
.. [1] D. S. Park, W. Chan, Y. Zhang, C.-C. Chiu, B. Zoph, E. D. Cubuk and
   Q. V. Le, "SpecAugment: A Simple Data Augmentation Method for Automatic
   Speech Recognition", Proc. Interspeech, 2019 (arXiv:1904.08779).
.. [2] A. Krizhevsky, I. Sutskever and G. E. Hinton, "ImageNet
   Classification with Deep Convolutional Neural Networks", Advances in
   Neural Information Processing Systems 25 (NIPS), 2012, Sec. 4.1.
"""

import numbers
from dataclasses import dataclass, fields

import torch

__all__ = ["FaceAugment", "SpecAugment", "augment_rows", "face_augment", "spec_augment"]

# Starts are drawn as a random integer modulo the number of positions, exact on
# every device; the bias is below length / 2**30, i.e. under 1e-7 for 64 positions.
_DRAW = 1 << 30


def _check_fields(obj, booleans=()):
    for field in fields(obj):
        value = getattr(obj, field.name)
        if field.name in booleans:
            if not isinstance(value, bool):
                raise TypeError(
                    f"{type(obj).__name__}: {field.name} must be True or False; got {value!r}."
                )
        elif not (isinstance(value, numbers.Integral) and not isinstance(value, bool)
                  and value >= 0):
            raise ValueError(
                f"{type(obj).__name__}: {field.name} must be a non-negative integer; "
                f"got {value!r}."
            )


@dataclass(frozen=True)
class SpecAugment:
    """Time and frequency masking and a small time shift of log-mel segments.

    For segments of shape ``(3, n_mels, frames)`` (static, delta and
    delta-delta log-mel, as from
    :class:`~skpathnet.transformers.LogMelSegmenter`): axis ``H`` is the mel
    band (frequency), axis ``W`` the frame (time). Each sample of a batch,
    independently and in this order:

    1. is shifted in time by ``s`` frames, ``s`` uniform in
       ``[-max_shift, max_shift]``; frames shifted in from outside the
       segment are 0 (zero padding), the frames shifted out are dropped;
    2. gets ``n_time_masks`` time masks: each sets ``t`` consecutive frames
       ``[t0, t0 + t)`` to 0 on all channels, ``t`` uniform in
       ``[0, min(time_mask, frames)]`` and then ``t0`` uniform in
       ``[0, frames - t]``;
    3. gets ``n_freq_masks`` frequency masks: the same over ``f`` consecutive
       mel bands, ``f`` uniform in ``[0, min(freq_mask, n_mels)]``.

    Masks may overlap. The masks are SpecAugment's frequency and time
    masking (Park et al. 2019 [1]_, Sec. 2); 0 is each feature's training
    mean after standardisation (see :mod:`skpathnet.engine._augment`). The
    paper's hand-made policies are for whole utterances of 80-dimensional
    log-mel filter banks: e.g. LibriSpeech double (LD), 2 frequency masks
    of up to F = 27 channels and 2 time masks of up to T = 100 frames (no
    more than p = 1.0 of the utterance), with time warping W = 80;
    Switchboard mild (SM), F = 15, T = 70, p = 0.2, W = 40. A 64-frame
    segment is shorter than one such time mask, so the defaults here are
    scaled down to an eighth of each axis of a 64 x 64 segment (8 frames,
    80 ms at ``LogMelSegmenter``'s 10 ms hop; 8 of 64 mel bands); they are
    not from the paper and not tuned.

    The paper's third part, time warping, is left out; the time shift is
    this package's simpler time deformation (not in the paper). It pads with
    zeros rather than shifting circularly: a segment is a 64-frame window of
    a longer clip, and a circular shift would put its last frames before its
    first, a jump in time (and in the deltas) that real speech never has,
    while zero-padded frames look like a time mask, which the network sees
    anyway.

    Parameters
    ----------
    n_time_masks : int, default=2
        Time masks per sample (``m_T``).
    time_mask : int, default=8
        Largest time mask, in frames (``T``).
    n_freq_masks : int, default=2
        Frequency masks per sample (``m_F``).
    freq_mask : int, default=8
        Largest frequency mask, in mel bands (``F``).
    max_shift : int, default=4
        Largest time shift, in frames (either direction); 0: no shift.

    Raises
    ------
    ValueError
        If a parameter is not a non-negative integer.

    See Also
    --------
    FaceAugment : translations and horizontal flips of face crops.

    References
    ----------
    .. [1] D. S. Park, W. Chan, Y. Zhang, C.-C. Chiu, B. Zoph, E. D. Cubuk and
       Q. V. Le, "SpecAugment: A Simple Data Augmentation Method for Automatic
       Speech Recognition", Proc. Interspeech, 2019 (arXiv:1904.08779).

    Examples
    --------
    >>> import torch
    >>> from skpathnet import SpecAugment
    >>> x = torch.ones(2, 3, 64, 64)
    >>> out = SpecAugment()(x, torch.Generator().manual_seed(0))
    >>> out.shape, bool((x == 1).all())
    (torch.Size([2, 3, 64, 64]), True)
    """

    n_time_masks: int = 2
    time_mask: int = 8
    n_freq_masks: int = 2
    freq_mask: int = 8
    max_shift: int = 4

    def __post_init__(self):
        _check_fields(self)

    def __call__(self, x, generator):
        """:func:`spec_augment` of ``x`` with these settings."""
        return spec_augment(x, self, generator)


@dataclass(frozen=True)
class FaceAugment:
    """Random translations and horizontal flips of face crops.

    For images of shape ``(C, H, W)`` (e.g. ``(3, 64, 64)`` crops from
    :class:`~skpathnet.transformers.FaceCropper`). Each sample of a batch,
    independently: with ``flip``, is mirrored left-right (the ``W`` axis
    reversed) with probability 0.5; then it is translated by ``dy`` rows and
    ``dx`` columns, each uniform in ``[-max_shift, max_shift]`` pixels,
    pixels shifted in from outside the image being 0 (zero padding: 0 is
    each pixel's training mean after standardisation) and those shifted out
    dropped, so the image keeps its size.

    Krizhevsky et al. (2012 [1]_, Sec. 4.1) augment with translations
    (random 224 x 224 patches of 256 x 256 images, so up to 32 pixels) and
    horizontal reflections; on 64 x 64 crops, which the face detector
    has already centred, the default shift is 4 pixels (not from the paper,
    not tuned), and translations pad instead of cropping so that training
    and test images keep one size.

    Parameters
    ----------
    max_shift : int, default=4
        Largest translation in each axis, in pixels; 0: none.
    flip : bool, default=True
        Mirror each sample left-right with probability 0.5.

    Raises
    ------
    ValueError
        If ``max_shift`` is not a non-negative integer.
    TypeError
        If ``flip`` is not a bool.

    See Also
    --------
    SpecAugment : masking and time shifts of log-mel segments.

    References
    ----------
    .. [1] A. Krizhevsky, I. Sutskever and G. E. Hinton, "ImageNet
       Classification with Deep Convolutional Neural Networks", Advances in
       Neural Information Processing Systems 25 (NIPS), 2012, Sec. 4.1.
    """

    max_shift: int = 4
    flip: bool = True

    def __post_init__(self):
        _check_fields(self, booleans=("flip",))

    def __call__(self, x, generator):
        """:func:`face_augment` of ``x`` with these settings."""
        return face_augment(x, self, generator)


def _check_batch(x, generator):
    if x.dim() != 4:
        raise ValueError(
            f"augmentation needs a batch of images of shape (batch, C, H, W); got a tensor of "
            f"shape {tuple(x.shape)}."
        )
    if generator.device.type != x.device.type:
        raise ValueError(
            f"the generator is on {generator.device}, the batch on {x.device}; create the "
            "generator on the batch's device."
        )


def _bands(n, length, max_width, count, generator, device):
    """``count`` random bands per row: bool of shape (n, length), True inside a band."""
    pos = torch.arange(length, device=device)
    mask = torch.zeros(n, length, dtype=torch.bool, device=device)
    cap = min(max_width, length)
    for _ in range(count):
        width = torch.randint(0, cap + 1, (n,), generator=generator, device=device)
        start = torch.randint(0, _DRAW, (n,), generator=generator, device=device)
        start = start % (length - width + 1)
        mask |= (pos >= start[:, None]) & (pos < (start + width)[:, None])
    return mask


def _source(shift, length, device, flip=None):
    """Source index of each output position of a zero-padded shift (then flip).

    Returns ``(index, valid)``, both of shape (n, length): output position
    ``j`` takes input position ``index[:, j]`` where ``valid``, else 0.
    """
    src = torch.arange(length, device=device) - shift[:, None]
    valid = (src >= 0) & (src < length)
    src = src.clamp_(0, length - 1)
    if flip is not None:
        src = torch.where(flip[:, None], length - 1 - src, src)
    return src, valid


def _gather(x, index, valid, dim):
    """``x`` (n, C, H, W) re-indexed along ``dim`` (-2 or -1) per sample; invalid -> 0."""
    view = (len(x), 1, -1, 1) if dim == -2 else (len(x), 1, 1, -1)
    out = torch.gather(x, dim, index.view(view).expand_as(x))
    return out.masked_fill_(~valid.view(view), 0)


def spec_augment(x, settings, generator):
    """Shift and mask each log-mel segment of a batch (see :class:`SpecAugment`).

    Parameters
    ----------
    x : torch.Tensor of shape (batch, C, n_mels, frames), floating point
        E.g. ``(batch, 3, 64, 64)`` standardised log-mel segments. Not
        modified.
    settings : SpecAugment
    generator : torch.Generator
        On the device of ``x``; the only source of randomness (same seed,
        same output on one device).

    Returns
    -------
    out : torch.Tensor of shape (batch, C, n_mels, frames)
        A new tensor of ``x``'s dtype and device.
    """
    _check_batch(x, generator)
    n, _, n_mels, frames = x.shape
    device = x.device
    out = None
    if settings.max_shift:
        shift = torch.randint(-settings.max_shift, settings.max_shift + 1, (n,),
                              generator=generator, device=device)
        out = _gather(x, *_source(shift, frames, device), -1)
    if settings.n_time_masks:
        mask = _bands(n, frames, settings.time_mask, settings.n_time_masks, generator, device)
        out = (x if out is None else out).masked_fill(mask.view(n, 1, 1, frames), 0)
    if settings.n_freq_masks:
        mask = _bands(n, n_mels, settings.freq_mask, settings.n_freq_masks, generator, device)
        out = (x if out is None else out).masked_fill(mask.view(n, 1, n_mels, 1), 0)
    return x.clone() if out is None else out


def face_augment(x, settings, generator):
    """Flip and translate each image of a batch (see :class:`FaceAugment`).

    Parameters
    ----------
    x : torch.Tensor of shape (batch, C, H, W), floating point
        E.g. ``(batch, 3, 64, 64)`` standardised face crops. Not modified.
    settings : FaceAugment
    generator : torch.Generator
        On the device of ``x``.

    Returns
    -------
    out : torch.Tensor of shape (batch, C, H, W)
        A new tensor of ``x``'s dtype and device.
    """
    _check_batch(x, generator)
    n, _, height, width = x.shape
    device = x.device
    k = settings.max_shift
    zero = torch.zeros(n, dtype=torch.long, device=device)
    dy = dx = zero
    if k:
        dy = torch.randint(-k, k + 1, (n,), generator=generator, device=device)
        dx = torch.randint(-k, k + 1, (n,), generator=generator, device=device)
    flip = None
    if settings.flip:
        flip = torch.randint(0, 2, (n,), generator=generator, device=device).bool()
    if not k and flip is None:
        return x.clone()
    out = _gather(x, *_source(dx, width, device, flip), -1)  # flip, then shift columns
    if k:
        out = _gather(out, *_source(dy, height, device), -2)
    return out


def augment_rows(augmentation, x, image_shape, generator):
    """Augment flat rows as images: rows -> ``(batch, *image_shape)`` -> rows.

    Parameters
    ----------
    augmentation : SpecAugment or FaceAugment
    x : torch.Tensor of shape (batch, C * H * W)
        A mini-batch of flattened images. Not modified.
    image_shape : tuple of int
        ``(C, H, W)``, the shape of one row as an image.
    generator : torch.Generator
        On the device of ``x``.

    Returns
    -------
    out : torch.Tensor of shape (batch, C * H * W)

    Raises
    ------
    ValueError
        If ``image_shape`` is not 3 integers whose product is the row length.
    """
    image_shape = tuple(image_shape) if image_shape is not None else ()
    size = 1
    for side in image_shape:
        size *= int(side)
    if len(image_shape) != 3 or size != x.shape[1]:
        raise ValueError(
            f"augmentation needs the image shape (C, H, W) of the rows of {x.shape[1]} "
            f"features; got image_shape={image_shape or None!r}."
        )
    images = x.reshape(len(x), *image_shape)
    return augmentation(images, generator).reshape(len(x), -1)
