"""Experiments: corpora -> front end -> folds -> any estimators -> metrics -> reports.

The main job (``skpathnet transfer``) and the scripts under ``benchmarks/``
share this sub-package:

- :mod:`._corpora`: built-in and users' corpora, front ends, features
  (:func:`load_corpus`, :func:`extract_features`), and every other corpus of
  a target's modality as its sources (:func:`other_corpora`).
- :mod:`._evaluate`: group-wise cross-validation of one or several
  estimators on the same folds, with per-fold and pooled metrics, each fold
  saved as it finishes (:func:`evaluate`, :func:`evaluate_methods`).
- :mod:`._transfer`: the steps of a transfer experiment (corpora, features,
  source phase: :func:`load_experiment`, :func:`extract_experiment`,
  :func:`fit_sources`) and sources -> target transfer against scratch or any
  methods (:func:`run_transfer_experiment`).
- :mod:`._curve`: learning curves, transfer against scratch, fine-tuning and
  a linear SVM as the target trains on fewer speakers or clips, on the same
  draws (:func:`run_curve_experiment`, :func:`learning_curve`).
- :mod:`._model`: from a report to a model: pretrain, fit a final model,
  label new recordings (:func:`pretrain`, :func:`fit_final`,
  :func:`predict_files`), the CLI's ``pretrain``, ``fit``, ``predict``.
- :mod:`._cluster`: the same on a Dask cluster (:func:`dask_cluster`).
- :mod:`._sequence`: task sequences over corpora (T1 -> T2 -> ...), scored
  by the accuracy matrix, backward and forward transfer
  (:func:`run_task_sequence`, :func:`task_sequence`).
- :mod:`._report`: the one JSON and Markdown writer.
- :mod:`._checkpoint`: saving a long run as it goes, and resuming it; the
  helpers a script calls around a run are public in :mod:`.checkpoint`
  (``from skpathnet.experiments import checkpoint``).
"""

from . import checkpoint
from ._cluster import dask_cluster, on_cluster
from ._corpora import (
    AUDIO_FEATURES, BEST_AUDIO, BEST_VISUAL, CORPORA, OPENSMILE_FEATURES, VISUAL_FEATURES,
    VISUAL_SHARED_EMOTIONS, describe_corpus, extract_features, front_end, load_corpus,
    other_corpora, speaker_norm_applies,
)
from ._curve import (
    CURVE_SIZES, curve_methods, format_curve_markdown, learning_curve, linear_svm,
    run_curve_experiment, save_curve_results,
)
from ._evaluate import ClusterError, Fold, clip_report, evaluate, evaluate_methods
from ._report import (
    PairedDifference, fold_mean_std, format_markdown, paired_difference, save_results, write_json,
)
from ._model import (
    Prediction, collect_inputs, fit_final, format_description,
    format_predictions, predict_files, pretrain,
)
from ._sequence import (
    SequenceData, SequenceTask, format_sequence_markdown, plot_sequence, prepare_sequence,
    run_task_sequence, save_sequence_results, sequence_tasks, speaker_split, task_sequence,
)
from ._transfer import (
    Corpus, ExperimentCorpora, ExperimentData, Method, SourceFit, extract_experiment, fit_sources,
    load_experiment, resolve_sources, run_transfer_experiment,
)

__all__ = [
    "AUDIO_FEATURES", "BEST_AUDIO", "BEST_VISUAL", "CORPORA", "ClusterError", "Corpus",
    "ExperimentCorpora", "ExperimentData", "Fold", "Method", "OPENSMILE_FEATURES",
    "PairedDifference", "Prediction", "SequenceData", "SequenceTask", "SourceFit",
    "VISUAL_FEATURES", "VISUAL_SHARED_EMOTIONS", "checkpoint", "clip_report", "collect_inputs",
    "dask_cluster", "describe_corpus", "evaluate", "evaluate_methods", "extract_experiment",
    "extract_features", "fit_final", "fit_sources", "fold_mean_std", "format_description",
    "format_markdown", "format_predictions", "format_sequence_markdown", "front_end",
    "load_corpus", "load_experiment", "on_cluster", "other_corpora", "paired_difference",
    "plot_sequence", "predict_files", "prepare_sequence", "pretrain", "resolve_sources",
    "run_task_sequence", "run_transfer_experiment", "save_results", "save_sequence_results",
    "sequence_tasks", "speaker_norm_applies", "speaker_split", "task_sequence", "write_json",
    # learning curves (_curve)
    "CURVE_SIZES", "curve_methods", "format_curve_markdown", "learning_curve", "linear_svm",
    "run_curve_experiment", "save_curve_results",
]
