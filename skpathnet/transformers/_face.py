"""Face front end: Viola-Jones face tracking and 64 x 64 RGB crops per frame.

The visual branch of Nguyen et al. (2020, Sec. 3.1) runs OpenCV's frontal-face
Haar cascade on every frame of a video, keeps one face box per frame (the
previous frame's box when the detector finds no face or several) and resizes
the face region to a 64 x 64 x 3 image. :class:`FaceCropper` does exactly
that for video files, image files and in-memory image arrays, and returns one
row per input (see :mod:`skpathnet.utils`).
"""

import os
import threading

import cv2
import numpy as np
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_memory

from ..utils._clips import make_clips
from ..utils._params import AnyOf, Integer, IntegerTuple, Options, Real, validate_params

__all__ = ["FaceCropper"]

#: File name of the cascade, looked up in ``cv2.data.haarcascades``.
CASCADE_FILE = "haarcascade_frontalface_default.xml"

_NO_FACE_RULES = ("raise", "full_frame")

# One cascade per thread of each process: loaded on first use, never stored on
# the estimator (it would break pickling and clone).
_local = threading.local()


def _frontal_face_cascade():
    """Return this thread's OpenCV frontal-face Haar cascade, loading it once."""
    cascade = getattr(_local, "cascade", None)
    if cascade is None:
        path = os.path.join(cv2.data.haarcascades, CASCADE_FILE)
        cascade = cv2.CascadeClassifier(path)
        if cascade.empty():
            raise RuntimeError(
                f"OpenCV could not load its Haar cascade {path!r}; reinstall "
                "opencv-python-headless so that cv2.data.haarcascades is complete."
            )
        _local.cascade = cascade
    return cascade


# --------------------------------------------------------------------------
# Reading frames
# --------------------------------------------------------------------------


def _describe(item):
    """Name an input in error messages: the file path, or the array's shape."""
    if isinstance(item, np.ndarray):
        return f"image array of shape {item.shape}"
    return repr(os.fspath(item))


def _array_to_rgb(image):
    """Return ``image`` as a C-contiguous uint8 RGB array of shape (H, W, 3)."""
    image = np.asarray(image)
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    if not (image.ndim == 2 or (image.ndim == 3 and image.shape[2] == 3)):
        raise ValueError(
            f"Expected an image of shape (H, W) or (H, W, 3); got shape "
            f"{image.shape}. Pass one array per image."
        )
    if image.shape[0] < 1 or image.shape[1] < 1:
        raise ValueError(f"Image of shape {image.shape} has no pixel.")
    if image.dtype == np.uint8:
        pass
    elif image.dtype.kind == "f":
        if not np.all(np.isfinite(image)) or image.min() < 0 or image.max() > 1:
            raise ValueError(
                "Float images must hold finite values in [0, 1]; got values in "
                f"[{np.nanmin(image)}, {np.nanmax(image)}]. Pass uint8 images "
                "for the 0-255 range."
            )
        image = np.rint(image * 255.0).astype(np.uint8)
    else:
        raise ValueError(
            f"Image dtype {image.dtype} is not supported; pass uint8 (0-255) "
            "or float (0-1) images."
        )
    if image.ndim == 2:
        image = cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_GRAY2RGB)
    return np.ascontiguousarray(image)


#: File name endings read as images (even when OpenCV finds no image signature).
IMAGE_SUFFIXES = (".bmp", ".dib", ".jpeg", ".jpg", ".jpe", ".jp2", ".png", ".webp", ".pbm",
                  ".pgm", ".ppm", ".pnm", ".pxm", ".sr", ".ras", ".tiff", ".tif", ".exr",
                  ".hdr", ".pic")

#: A video may decode this many frames fewer than its container declares (or
#: this fraction of them, if more) before it counts as truncated: containers'
#: frame counts are estimates, a few frames above what FFmpeg decodes (e.g.
#: 95 of 98 for a valid MP4 with an edit list).
VIDEO_FRAME_TOLERANCE = (5, 0.02)


def _video_frames(path, frame_step, max_frames):
    """Yield every ``frame_step``-th decoded frame of a video, RGB uint8.

    Raises
    ------
    ValueError
        If OpenCV cannot open the file, or decoding stops well before the
        frame count the container declares (a truncated or damaged video;
        see :data:`VIDEO_FRAME_TOLERANCE`).
    """
    capture = cv2.VideoCapture(path)
    if not capture.isOpened():
        raise ValueError(
            f"OpenCV cannot open {path!r} as an image or a video: it is not a readable "
            "image (PNG, JPEG, TIFF, ...) or video (MP4, AVI, MOV, ...), or it is "
            "damaged or truncated (e.g. an MP4 cut before its index); re-copy or "
            "re-encode it."
        )
    try:
        declared = int(max(capture.get(cv2.CAP_PROP_FRAME_COUNT), 0))
        index = kept = 0
        while max_frames is None or kept < max_frames:
            if index % frame_step == 0:
                ok, frame = capture.read()
                if not ok:
                    break
                kept += 1
                if frame.ndim == 2:
                    yield cv2.cvtColor(frame, cv2.COLOR_GRAY2RGB)
                else:
                    yield cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
            elif not capture.grab():
                break
            index += 1
        else:
            return  # max_frames reached: the rest is not read
        absolute, fraction = VIDEO_FRAME_TOLERANCE
        if index > 0 and declared - index > max(absolute, fraction * declared):
            raise ValueError(
                f"The video {path!r} is truncated or damaged: OpenCV decoded {index} of "
                f"the {declared} frames its container declares. Re-copy or re-encode "
                "the file."
            )
    finally:
        capture.release()


def _check_image_file(path):
    """Raise if an image file is cut short: a JPEG or PNG must end with its end marker.

    libjpeg decodes a truncated JPEG with grey fill and only prints a
    warning, so the end-of-image marker (``FF D9``, after the last
    start-of-scan ``FF DA``: neither occurs inside entropy-coded data) is
    checked here; a PNG must have its ``IEND`` chunk.
    """
    with open(path, "rb") as file:
        data = file.read()
    if data[:2] == b"\xff\xd8":
        if data.rfind(b"\xff\xd9") < data.rfind(b"\xff\xda"):
            raise ValueError(
                f"The JPEG file {path!r} is truncated or damaged: it has no end-of-image "
                f"marker after its image data ({len(data)} bytes). Re-copy or re-encode it."
            )
    elif data[:8] == b"\x89PNG\r\n\x1a\n" and b"IEND" not in data[-64:]:
        raise ValueError(
            f"The PNG file {path!r} is truncated or damaged: it has no IEND chunk at its "
            f"end ({len(data)} bytes). Re-copy or re-encode it."
        )


def _frames(item, frame_step, max_frames):
    """Yield the kept RGB uint8 frames of one input (one frame for an image)."""
    if isinstance(item, np.ndarray):
        yield _array_to_rgb(item)
        return
    path = os.fspath(item)
    if os.path.isdir(path):
        raise IsADirectoryError(
            f"{path!r} is a directory, not an image or video file; pass the files in "
            "it, e.g. sorted(pathlib.Path(folder).glob('*.png'))."
        )
    if not os.path.isfile(path):
        raise FileNotFoundError(f"No such image or video file: {path!r}.")
    if cv2.haveImageReader(path):
        _check_image_file(path)
        image = cv2.imread(path, cv2.IMREAD_COLOR)  # also reads palette TIFFs
        if image is None:
            raise ValueError(
                f"OpenCV cannot decode the image file {path!r}: it is damaged or not "
                "an image."
            )
        yield cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
        return
    if path.lower().endswith(IMAGE_SUFFIXES):
        raise ValueError(
            f"{path!r} is not a decodable image: its content starts with no image "
            "signature OpenCV knows (PNG, JPEG, TIFF, ...); the file is damaged or not "
            "an image."
        )
    yield from _video_frames(path, frame_step, max_frames)


# --------------------------------------------------------------------------
# Tracking and cropping one input
# --------------------------------------------------------------------------


def _crop(frame, box, size):
    """Crop ``box`` = (x, y, w, h) from an RGB frame; return (3, size, size) float32."""
    height, width = frame.shape[:2]
    x, y, w, h = (int(v) for v in box)
    x0 = min(max(x, 0), width - 1)
    y0 = min(max(y, 0), height - 1)
    x1 = max(min(x + w, width), x0 + 1)
    y1 = max(min(y + h, height), y0 + 1)
    face = cv2.resize(frame[y0:y1, x0:x1], (size, size), interpolation=cv2.INTER_AREA)
    return np.divide(face.transpose(2, 0, 1), 255, dtype=np.float32)


def _largest(faces):
    """The largest box (by area) of several; the detector's first one on ties."""
    areas = faces[:, 2].astype(np.int64) * faces[:, 3]
    return faces[int(np.argmax(areas))]


def _fill_forward_backward(boxes):
    """Replace each None by the previous box, leading Nones by the first box."""
    filled, last = [], None
    for box in boxes:
        last = box if box is not None else last
        filled.append(last)
    first = next(box for box in boxes if box is not None)
    return [first if box is None else box for box in filled]


def _track_faces(item, signature, params):
    """Detect, track and crop the face in every kept frame of one input.

    ``signature`` (path, size, mtime) only serves as a cache key, so that a
    :class:`joblib.Memory` cache is invalidated when a file changes.

    Returns
    -------
    crops : ndarray of shape (n_frames, 3, size, size), float32
    boxes : ndarray of shape (n_frames, 4), int64
        (x, y, width, height) of each frame's crop, in pixels.
    n_faces : ndarray of shape (n_frames,), int64
        Number of faces the detector found in each frame.
    """
    del signature
    cascade = _frontal_face_cascade()
    size = params["size"]
    crops, boxes, n_faces = [], [], []
    pending = []  # (frame, faces) of frames waiting for a first single detection
    last = None  # box of the latest frame with exactly one detection

    def emit(frame, box):
        crops.append(_crop(frame, box, size))
        boxes.append(np.asarray(box, dtype=np.int64))

    for frame in _frames(item, params["frame_step"], params["max_frames"]):
        gray = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
        faces = cascade.detectMultiScale(
            gray,
            scaleFactor=params["scale_factor"],
            minNeighbors=params["min_neighbors"],
            minSize=params["min_size"],
        )
        faces = np.asarray(faces, dtype=np.int64).reshape(-1, 4)
        n_faces.append(len(faces))
        if len(faces) == 1:
            last = faces[0]
            for waiting, _ in pending:  # frames before the first detection
                emit(waiting, last)
            pending.clear()
            emit(frame, last)
        elif last is not None:  # no face or several: keep the previous box
            emit(frame, last)
        else:
            pending.append((frame, faces))

    if not n_faces:
        raise ValueError(
            f"No frame could be decoded from {_describe(item)}: the video is "
            "empty or its codec is not supported by OpenCV's FFmpeg backend."
        )
    if pending:  # no frame had exactly one face
        largest = [_largest(faces) if len(faces) else None for _, faces in pending]
        if any(box is not None for box in largest):
            fallback = _fill_forward_backward(largest)
        elif params["no_face"] == "raise":
            raise ValueError(
                f"No face found in any of the {len(pending)} frame(s) of "
                f"{_describe(item)}. Lower min_size / min_neighbors, or pass "
                "no_face='full_frame' to use the whole frame instead."
            )
        else:
            fallback = [(0, 0, frame.shape[1], frame.shape[0]) for frame, _ in pending]
        for (frame, _), box in zip(pending, fallback):
            emit(frame, box)
    return np.stack(crops), np.stack(boxes), np.asarray(n_faces, dtype=np.int64)


def _signature(item):
    """Cache key of a file input: (path, size, mtime); None for arrays."""
    if isinstance(item, np.ndarray):
        return None
    path = os.fspath(item)
    try:
        stat = os.stat(path)
    except OSError:
        return (path, None, None)  # reading it raises a clear error later
    return (os.path.abspath(path), stat.st_size, stat.st_mtime_ns)


# --------------------------------------------------------------------------
# Estimator
# --------------------------------------------------------------------------


class FaceCropper(TransformerMixin, BaseEstimator):
    """Track the face in videos or images and crop it to RGB 64 x 64 images.

    Every kept frame of each input goes through OpenCV's Viola-Jones
    frontal-face Haar cascade (``haarcascade_frontalface_default.xml``, run on
    the gray frame). The face box of each frame is chosen as follows
    (Nguyen et al., 2020, Sec. 3.1):

    1. A frame where the detector finds exactly one face uses that face.
    2. A frame where it finds no face, or several, reuses the previous
       frame's box; frames before the first single detection use the box of
       the first single detection (the rule applied backwards).
    3. If no kept frame has exactly one face but some have several (for
       instance a single image of a group), rules 1-2 are applied with the
       largest face (by area) of each such frame standing for its detection.
    4. If no kept frame has any face, ``no_face`` decides.

    The face region is resized to ``size x size`` (``cv2.INTER_AREA``) and
    returned channel-first, channel order RGB, as float32 in [0, 1]
    (uint8 value / 255). Gray inputs are replicated to three channels.

    Parameters
    ----------
    frame_step : int, default=1
        Keep every ``frame_step``-th frame of a video (frames 0,
        ``frame_step``, ``2 * frame_step``, ...). Ignored for images.
    max_frames : int or None, default=None
        Keep at most this many frames per video (the first ones kept by
        ``frame_step``); None keeps them all. Ignored for images.
    scale_factor : float, default=1.1
        Scale step between the detector's image pyramid levels (OpenCV's
        ``scaleFactor``); must be > 1.
    min_neighbors : int, default=5
        Overlapping candidates a detection needs to be kept (OpenCV's
        ``minNeighbors``); higher gives fewer false faces.
    min_size : int or tuple of (int, int), default=(30, 30)
        Smallest face (width, height) searched for, in pixels (OpenCV's
        ``minSize``); an int means a square. Lower it for small images such
        as the 48 x 48 CK+48 crops.
    size : int, default=64
        Side of the square output crops, in pixels.
    no_face : {"raise", "full_frame"}, default="raise"
        What to do with an input in which no kept frame has a face: raise a
        ValueError naming the file, or crop the whole frame of every kept
        frame (resized without keeping the aspect ratio).
    n_jobs : int or None, default=None
        Inputs processed in parallel with :class:`joblib.Parallel` (one input
        per task). None means 1 unless in a :func:`joblib.parallel_config`
        context; -1 means all CPUs.
    memory : str, path-like, joblib.Memory or None, default=None
        Cache of the per-input work (detection and cropping). A file's cache
        key includes its absolute path, size and modification time, so a
        changed file is processed again. None disables caching.

    See Also
    --------
    skpathnet.transformers.LogMelSegmenter : The audio front end.
    skpathnet.datasets.load_jaffe : Face images to feed this transformer.

    Notes
    -----
    Accepted inputs ``X`` (one row per element):

    - file paths (str or path-like) to images that ``cv2.imread`` decodes
      (PNG, JPEG, TIFF including palette TIFFs, ...) or to videos that
      ``cv2.VideoCapture`` decodes (MP4, AVI, MOV, ...); a file is read as an
      image when OpenCV recognises an image signature, otherwise as a video;
    - image arrays of shape (H, W) (gray) or (H, W, 3), **RGB** channel
      order (convert ``cv2.imread`` results with ``cv2.COLOR_BGR2RGB``),
      dtype uint8 (0-255) or float (0-1);
    - a single ndarray of shape (n_images, H, W) or (n_images, H, W, 3),
      read as that many images.

    An image gives one frame. Video frames are decoded one at a time; only
    the frames before the first single detection are held in memory.

    Damaged media raise a ValueError naming the file rather than giving
    partial crops: a JPEG or PNG without its end marker (libjpeg would fill
    the missing part with grey), and a video that decodes more than
    ``max(5, 2%)`` fewer frames than its container declares (a truncated
    MP4 or AVI would otherwise give only its first frames; the tolerance
    covers containers whose declared count is a few frames high).

    The detector is loaded lazily, once per thread of each process, and is
    never an attribute of the estimator, so the estimator pickles and clones
    as its parameters. The transformer learns nothing: ``fit`` only checks
    the parameters and ``transform`` works without it.

    References
    ----------
    .. [1] D. Nguyen, S. Sridharan, D. T. Nguyen, S. Denman, D. Dean and
       C. Fookes, "Meta Transfer Learning for Emotion Recognition",
       arXiv:2006.13211, 2020.
    .. [2] P. Viola and M. Jones, "Rapid object detection using a boosted
       cascade of simple features", CVPR, 2001.

    Examples
    --------
    >>> import numpy as np
    >>> from skpathnet.transformers import FaceCropper
    >>> blank = np.zeros((100, 120), dtype=np.uint8)
    >>> clips = FaceCropper(no_face="full_frame").transform([blank, blank])
    >>> clips.shape, clips[0].shape, clips[0].dtype
    ((2,), (1, 3, 64, 64), dtype('float32'))
    """

    # What each parameter may be (skpathnet.utils._params); n_jobs and memory are
    # joblib's.
    _parameter_constraints = {
        "frame_step": Integer(1),
        "max_frames": Integer(1, none=True),
        "scale_factor": Real(1, low_open=True),
        "min_neighbors": Integer(0),
        "min_size": AnyOf((Integer(1), IntegerTuple(1, length=2))),
        "size": Integer(1),
        "no_face": Options(_NO_FACE_RULES),
    }

    def __init__(
        self,
        *,
        frame_step=1,
        max_frames=None,
        scale_factor=1.1,
        min_neighbors=5,
        min_size=(30, 30),
        size=64,
        no_face="raise",
        n_jobs=None,
        memory=None,
    ):
        self.frame_step = frame_step
        self.max_frames = max_frames
        self.scale_factor = scale_factor
        self.min_neighbors = min_neighbors
        self.min_size = min_size
        self.size = size
        self.no_face = no_face
        self.n_jobs = n_jobs
        self.memory = memory

    def _checked_params(self):
        """Validate the parameters; return the per-input work's settings."""
        validate_params(self, self._parameter_constraints)
        min_size = self.min_size
        if not isinstance(min_size, (tuple, list)):
            min_size = (min_size, min_size)
        return {
            "frame_step": int(self.frame_step),
            "max_frames": None if self.max_frames is None else int(self.max_frames),
            "scale_factor": float(self.scale_factor),
            "min_neighbors": int(self.min_neighbors),
            "min_size": (int(min_size[0]), int(min_size[1])),
            "size": int(self.size),
            "no_face": self.no_face,
        }

    @staticmethod
    def _inputs(X):
        """Split ``X`` into a list of file paths and image arrays."""
        if isinstance(X, (str, bytes, os.PathLike)):
            raise TypeError(
                f"X must be a sequence of files or images, not a single path {X!r}; "
                "wrap it in a list."
            )
        if isinstance(X, np.ndarray) and X.dtype != object and X.dtype.kind not in "US":
            if X.ndim not in (3, 4):
                raise ValueError(
                    f"A numeric array X must have shape (n_images, H, W) or "
                    f"(n_images, H, W, 3); got shape {X.shape}. Wrap a single "
                    "image in a list."
                )
            items = list(X)
        else:
            try:
                items = list(X)
            except TypeError:
                raise TypeError(
                    "X must be a sequence of file paths or image arrays; got "
                    f"{type(X).__name__}."
                ) from None
        if not items:
            raise ValueError("X is empty; pass at least one file or image.")
        for i, item in enumerate(items):
            if isinstance(item, np.str_):
                items[i] = str(item)
            elif not isinstance(item, (str, os.PathLike, np.ndarray)):
                raise TypeError(
                    f"X[{i}] must be a file path or an image array; got "
                    f"{type(item).__name__}."
                )
        return items

    def fit(self, X, y=None):
        """Check the parameters; nothing is learned.

        Parameters
        ----------
        X : ignored
            Accepted for API consistency.
        y : ignored
            Accepted for API consistency.

        Returns
        -------
        self : FaceCropper

        Raises
        ------
        ValueError
            If a parameter value is invalid; the message names the value.
        """
        self._checked_params()
        return self

    def transform(self, X):
        """Crop the tracked face of every kept frame of each input.

        Parameters
        ----------
        X : sequence of str, path-like or ndarray, or ndarray
            Image or video files, or image arrays; see the class Notes.

        Returns
        -------
        clips : ndarray of dtype object and shape (n_inputs,)
            Item ``i`` is a float32 ndarray of shape
            ``(n_frames_i, 3, size, size)``: the RGB face crops in [0, 1] of
            the kept frames of input ``i`` (``n_frames_i = 1`` for an image).

        Raises
        ------
        FileNotFoundError
            If a file does not exist; the message names it.
        IsADirectoryError
            If a path is a directory.
        ValueError
            If a parameter value is invalid, a file cannot be decoded, a
            file named as an image (``.png``, ``.jpg``, ...) holds no image,
            a JPEG or PNG is truncated (no end marker), a video is
            truncated (it decodes more than
            ``max(5, 2% of)`` fewer frames than its container declares,
            unless ``max_frames`` stopped reading first), a video has no
            decodable frame, or (``no_face="raise"``) an input has no face
            in any kept frame; the message names the file.
        TypeError
            If ``X`` is not a sequence of paths or arrays.
        """
        return make_clips(crops for crops, _, _ in self._run(X))

    def detect_boxes(self, x):
        """Return the face box used for each kept frame of one input.

        Boxes follow the class's tracking rules, so ``transform([x])[0][i]``
        is the crop of ``boxes[i]`` from kept frame ``i``.

        Parameters
        ----------
        x : str, path-like or ndarray
            One image or video file, or one image array.

        Returns
        -------
        boxes : ndarray of shape (n_frames, 4), int64
            (x, y, width, height) in pixels of each kept frame's face box
            (the whole frame under ``no_face="full_frame"`` when no face is
            found).
        n_faces : ndarray of shape (n_frames,), int64
            Number of faces the detector found in each kept frame; a frame
            with ``n_faces != 1`` took its box from a neighbouring frame (or,
            if no frame has exactly one face, from its largest face).

        Raises
        ------
        FileNotFoundError, ValueError, TypeError
            As :meth:`transform`.
        """
        (result,) = self._run([x])
        return result[1], result[2]

    def _run(self, X):
        params = self._checked_params()
        items = self._inputs(X)
        track = check_memory(self.memory).cache(_track_faces)
        return Parallel(n_jobs=self.n_jobs)(
            delayed(track)(item, _signature(item), params) for item in items
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        # X is a sequence of paths (strings) or images, not a feature matrix.
        tags.input_tags.two_d_array = False
        tags.input_tags.one_d_array = True
        tags.input_tags.three_d_array = True
        tags.input_tags.string = True
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags
