"""The PathNet engine: torch only (no scikit-learn), used by PathNetClassifier.

- :mod:`._modules`: module types (:class:`LinearModules`, :class:`ConvModules`),
  :class:`Params` and :func:`pooled_kernel` (convolution and pooling in one);
- :mod:`._network`: :class:`PathNetwork` (stacked modules, frozen modules,
  row-space mode of layer 1), :class:`TaskHead`, :class:`Inputs`;
- :mod:`._pathway`: :class:`Pathways` (gather / scatter of ``P >= 1``
  pathways) and the one :func:`forward` pass;
- :mod:`._sgd`: :class:`TrainSettings`, the SGD steps,
  :func:`train_pathways` and the held-out fitness (:func:`heldout_trainer`);
- :mod:`._augment`: training-time augmentation of mini-batches,
  :class:`SpecAugment` (log-mel segments) and :class:`FaceAugment` (faces);
- :mod:`._evolution`: :class:`EvolutionSettings`, :func:`evolve`,
  :func:`mutate`, :func:`random_genotype`;
- :mod:`._multitask`: several task heads on shared pathways with masked
  losses (:class:`MultiTaskHeads`, :class:`MultiTargets`,
  :func:`train_multitask`);
- :mod:`._probe`: :func:`step_probe`, an optional probe that the step loop
  and the steps tell the end of each phase of a step, for profiling.
"""

from ._augment import FaceAugment, SpecAugment, augment_rows, face_augment, spec_augment
from ._evolution import EvolutionSettings, evolve, mutate, random_genotype
from ._multitask import (
    MultiTargets, MultiTaskCounts, MultiTaskHeads, multitask_autograd_step, multitask_fitness,
    multitask_loss, multitask_sgd_step, multitask_step_for, train_multitask,
)
from ._modules import ConvModules, LinearModules, Params, pooled_kernel
from ._network import Inputs, PathNetwork, RowSpace, TaskHead, active_modules
from ._pathway import GatheredLayer, LayerState, Pathways, forward
from ._probe import step_probe
from ._sgd import (
    TrainSettings, Velocities, autograd_sgd_step, heldout_accuracy, heldout_trainer,
    linear_backward, linear_sgd_step, minibatches, run_steps, sgd_update, step_for,
    train_pathways, training_loss,
)

__all__ = [
    "ConvModules", "EvolutionSettings", "FaceAugment", "GatheredLayer", "Inputs", "LayerState",
    "LinearModules", "MultiTargets", "MultiTaskCounts", "MultiTaskHeads", "Params",
    "PathNetwork", "Pathways", "RowSpace", "SpecAugment", "TaskHead",
    "TrainSettings", "Velocities", "active_modules", "augment_rows", "autograd_sgd_step", "evolve",
    "face_augment", "forward",
    "heldout_accuracy", "heldout_trainer", "linear_backward", "linear_sgd_step", "minibatches",
    "multitask_autograd_step",
    "multitask_fitness", "multitask_loss", "multitask_sgd_step", "multitask_step_for", "mutate",
    "pooled_kernel", "random_genotype", "run_steps", "sgd_update", "spec_augment", "step_for",
    "step_probe",
    "train_multitask",
    "train_pathways",
    "training_loss",
]
