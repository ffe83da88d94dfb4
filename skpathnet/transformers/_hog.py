"""Face features: histograms of oriented gradients (HOG) of face crops.

The crops of :class:`~skpathnet.transformers.FaceCropper` are raw pixels, in
which a face's identity (its shape, skin, lighting) outweighs its expression.
HOG [1]_ describes each crop by the local distribution of edge directions
instead: the usual hand-crafted input of facial expression recognition
beside LBP and facial landmarks. The descriptor is OpenCV's
:class:`cv2.HOGDescriptor` at Dalal and Triggs' settings.
"""


import cv2
import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from ..utils._clips import is_clips, make_clips
from ..utils._params import Integer, validate_params

__all__ = ["FaceHOG"]


class FaceHOG(TransformerMixin, BaseEstimator):
    """Histograms of oriented gradients of face crops, one feature vector per crop.

    Each crop is split into square cells of ``cell_size`` pixels; each cell
    gets a histogram of its gradient orientations (``n_bins`` unsigned bins
    over 0-180 degrees, votes weighted by gradient magnitude); overlapping
    blocks of ``block_size x block_size`` cells, one cell apart, are
    L2-Hys normalised (L2, clipped at 0.2, L2 again) and concatenated [1]_.
    For a colour crop the gradient of each pixel is that of the channel with
    the largest magnitude [1]_; a grey crop stored as three equal channels
    gives exactly the HOG of the grey image.

    The transformer is stateless: :meth:`fit` only validates the parameters.
    It is meant to sit after :class:`~skpathnet.transformers.FaceCropper`
    (``make_pipeline(FaceCropper(), FaceHOG(), PathNetClassifier())``),
    optionally followed by speaker (subject) normalisation with
    :class:`~skpathnet.transformers.GroupStandardScaler`.

    Parameters
    ----------
    cell_size : int, default=8
        Side of a cell in pixels; the crop's height and width must be
        multiples of it. 8 is Dalal and Triggs' choice [1]_ (Sec. 6.4).
    block_size : int, default=2
        Side of a normalisation block in cells (2 x 2 cells, 16 x 16 pixels
        at the default cell size [1]_, Sec. 6.4); blocks step by one cell.
    n_bins : int, default=9
        Orientation bins over 0-180 degrees (unsigned gradients, [1]_
        Sec. 6.3).

    See Also
    --------
    skpathnet.transformers.FaceCropper : the face crops this describes.
    skpathnet.transformers.GroupStandardScaler : subject normalisation of
        these features.

    Notes
    -----
    A crop of ``H x W`` pixels gives ``n_features = n_bins * block_size**2 *
    (H / cell_size - block_size + 1) * (W / cell_size - block_size + 1)``
    features: 1,764 for a 64 x 64 crop at the defaults. Pixel values in
    [0, 1] are rounded to 8 bits (``round(255 * x)``) for OpenCV, which
    computes the descriptor with its default Gaussian block window
    (sigma = half a block), no gamma correction, and trilinear voting.

    References
    ----------
    .. [1] N. Dalal and B. Triggs, "Histograms of Oriented Gradients for
       Human Detection", IEEE CVPR, pp. 886-893, 2005.

    Examples
    --------
    >>> import numpy as np
    >>> from skpathnet.transformers import FaceHOG
    >>> crops = np.random.default_rng(0).random((5, 3, 64, 64), dtype=np.float32)
    >>> FaceHOG().fit_transform(crops).shape
    (5, 1764)
    """

    _parameter_constraints = {"cell_size": Integer(1), "block_size": Integer(1),
                              "n_bins": Integer(1)}

    def __init__(self, *, cell_size=8, block_size=2, n_bins=9):
        self.cell_size = cell_size
        self.block_size = block_size
        self.n_bins = n_bins

    def fit(self, X=None, y=None):
        """Validate the parameters; nothing is learnt.

        Parameters
        ----------
        X, y : ignored

        Returns
        -------
        self : FaceHOG

        Raises
        ------
        ValueError
            If a parameter is not a positive int; the message names it.
        """
        self._check_params()
        return self

    def transform(self, X):
        """Compute the HOG descriptor of every crop.

        Parameters
        ----------
        X : ndarray of shape (n_crops, n_channels, H, W), or clips
            Float crops with values in [0, 1] and 1 or 3 channels, e.g.
            ``FaceCropper().transform(files)``: a 1-D object ndarray whose
            item ``i`` has shape ``(n_frames_i, n_channels, H, W)``.

        Returns
        -------
        features : ndarray of shape (n_crops, n_features), float32, or clips
            One descriptor per crop (see the class Notes for
            ``n_features``). Clips give clips: item ``i`` of shape
            ``(n_frames_i, n_features)``.

        Raises
        ------
        ValueError
            If a parameter is invalid, ``X`` is not 4-D (nor clips of 4-D
            items), has other than 1 or 3 channels, a side that is not a
            multiple of ``cell_size`` or smaller than a block, or a crop with
            values outside [0, 1] or not finite (the message names the crop).
        """
        params = self._check_params()
        if is_clips(X):
            return make_clips(
                self._describe(np.asarray(clip), params, f"clip {i}")
                for i, clip in enumerate(X)
            )
        return self._describe(np.asarray(X), params, "X")

    def get_feature_names_out(self, input_features=None):
        """Names ``hog0``, ``hog1``, ... of the descriptor's features.

        Only known once a crop size has been seen, so this needs
        ``input_features`` of the right length, or raises ValueError.
        """
        if input_features is None:
            raise ValueError(
                "FaceHOG's number of features depends on the crop size; pass "
                "input_features (any sequence of the descriptor's length)."
            )
        return np.asarray([f"hog{i}" for i in range(len(input_features))], dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.input_tags.two_d_array = False
        tags.input_tags.three_d_array = True
        return tags

    def _check_params(self):
        validate_params(self, self._parameter_constraints)
        return int(self.cell_size), int(self.block_size), int(self.n_bins)

    def _describe(self, crops, params, where):
        """HOG of a 4-D batch of crops: float32 ndarray of shape (n_crops, n_features)."""
        cell, block, n_bins = params
        if crops.ndim != 4 or crops.shape[1] not in (1, 3):
            raise ValueError(
                f"{where} has shape {crops.shape}; FaceHOG expects crops of shape "
                "(n_crops, 1 or 3 channels, height, width), as FaceCropper returns."
            )
        height, width = crops.shape[2:]
        if height % cell or width % cell or min(height, width) < cell * block:
            raise ValueError(
                f"{where}: crops of {height} x {width} pixels do not split into whole "
                f"cells of cell_size={cell} pixels with at least one block of "
                f"block_size={block} cells; choose a cell_size dividing both sides."
            )
        finite = np.isfinite(crops).all(axis=(1, 2, 3))
        in_range = finite & (crops.min(axis=(1, 2, 3), initial=0.0) >= 0) & (
            crops.max(axis=(1, 2, 3), initial=0.0) <= 1)
        if not in_range.all():
            bad = int(np.flatnonzero(~in_range)[0])
            raise ValueError(
                f"Crop {bad} of {where} has values outside [0, 1] or not finite; FaceHOG "
                "expects FaceCropper's crops (floats in [0, 1])."
            )
        hog = cv2.HOGDescriptor((width, height), (block * cell, block * cell), (cell, cell),
                                (cell, cell), n_bins)
        pixels = np.rint(crops * 255).astype(np.uint8).transpose(0, 2, 3, 1)
        rows = [hog.compute(np.ascontiguousarray(p if p.shape[2] == 3 else p[..., 0])).ravel()
                for p in pixels]
        if not rows:
            n_blocks = (height // cell - block + 1) * (width // cell - block + 1)
            return np.empty((0, n_bins * block ** 2 * n_blocks), np.float32)
        return np.stack(rows).astype(np.float32)
