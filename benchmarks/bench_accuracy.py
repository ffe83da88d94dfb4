"""Accuracy benchmark: PathNet against what emotion-recognition users already have.

Every method is scored on the same subject-independent folds of a target
corpus (clip-level WAR and UAR, mean ± std over folds, and pooled), in one
run per target:

======== ================== ===========================================
target   sources (transfer) folds
======== ================== ===========================================
emodb    ravdess + emovo    leave-one-speaker-out (10 speakers)
jaffe    ckplus             leave-one-subject-out (10 subjects)
ckplus   jaffe              GroupKFold(10) over its 118 subjects
ravdess  emovo + emodb      leave-one-speaker-out (24 actors)
emovo    ravdess + emodb    leave-one-speaker-out (6 actors)
======== ================== ===========================================

RAVDESS and EMOVO are targets for the speech front-end comparison (issue 30).

Methods (``--methods``; see ``METHODS``): librosa acoustic functionals
(``functionals-*``, ``pathnet-l2-func-*``: the main job's default), openSMILE
functionals (ComParE_2016, eGeMAPSv02) + linear SVM, each without and with speaker normalisation
(``-norm``: :class:`~skpathnet.transformers.GroupStandardScaler`, each
speaker standardised with its own statistics, sources too; normalising the
corpus before the folds is exactly normalising inside each fold, as the
folds split by speaker); PathNet at the paper's settings and at the
settings of this benchmark's search (``PATHNET_BEST``), from scratch and
with transfer. The paper-faithful log-mel methods (PathNet, fine-tuning,
log-mel + linear model) ran on the same folds with the same seed in
``bench_paper.py``; ``--summary`` shows those saved rows beside these,
marked as such, instead of spending 2.5 core-hours re-running them.

Usage::

    python benchmarks/bench_accuracy.py --target emodb --threads 1 \\
        --methods compare-svm compare-svm-norm egemaps-svm egemaps-svm-norm
    python benchmarks/bench_accuracy.py --target emodb --threads 1 \\
        --methods pathnet-scratch pathnet-transfer
    python benchmarks/bench_accuracy.py --target emodb --threads 1 --train-groups 2 \\
        --methods compare-svm-norm pathnet-l2-scratch pathnet-l2-transfer
    python benchmarks/bench_accuracy.py --summary
    python benchmarks/bench_accuracy.py --search --search-only 8 9 --threads 1
    python benchmarks/bench_accuracy.py --search --search-source emovo --search-only 7 --threads 1
    python benchmarks/bench_accuracy.py --search --search-features functionals --generations 40 \
        --search-train-groups 2 --search-source emovo+emodb --search-only 23 42 --threads 1
    python benchmarks/bench_accuracy.py --search-compare 42 23@ --search-features functionals \
        --generations 40 --search-train-groups 2 --search-source emovo+emodb

Each run writes ``benchmarks/results/accuracy/<target>-<method>.json`` (no
per-clip predictions), so methods can run in separate processes, one per
core; ``--summary`` reads them all and prints the tables for RESULTS.md.
"""

import argparse
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from joblib import Memory
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold, LeaveOneGroupOut
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from skpathnet import FaceAugment, PathNetClassifier
from skpathnet.baselines import FineTuneClassifier
from skpathnet.experiments import (
    BEST_AUDIO, CORPORA, evaluate, extract_features, fold_mean_std, load_corpus,
    paired_difference, VISUAL_SHARED_EMOTIONS, write_json,
)
from skpathnet.metrics import war_score
from skpathnet.model_selection import FewTrainingGroups
from skpathnet.transformers import AcousticFunctionals, GroupStandardScaler

HERE = Path(__file__).parent
OUT = HERE / "results" / "accuracy"

TARGETS = {
    "emodb": {"sources": ["ravdess", "emovo"], "cv": LeaveOneGroupOut(),
              "paper_results": "ravdess+emovo-emodb"},
    "jaffe": {"sources": ["ckplus"], "cv": LeaveOneGroupOut(),
              "paper_results": "ckplus-jaffe"},
    "ckplus": {"sources": ["jaffe"], "cv": GroupKFold(n_splits=10),
               "paper_results": "jaffe-ckplus"},
    # the speech front-end claims (issue 30): each speech corpus a target, the others sources
    "ravdess": {"sources": ["emovo", "emodb"], "cv": LeaveOneGroupOut(),
                "paper_results": None},
    "emovo": {"sources": ["ravdess", "emodb"], "cv": LeaveOneGroupOut(),
              "paper_results": None},
}

#: The small CNN peer (FineTuneClassifier(architecture="cnn")), fixed before any run and
#: not tuned: three blocks of 16, 32, 64 channels (3x3 conv, ReLU, 2x2 max pooling), global
#: average pooling; plain SGD, learning rate 0.05, 100 epochs, batch 32.
SMALL_CNN = {"hidden_units": (16, 32, 64), "learning_rate": 0.05, "max_epochs": 100,
             "batch_size": 32}

#: PathNet settings chosen by the search of RESULTS.md ("Accuracy") on RAVDESS
#: speakers (a source corpus, never a target), then fixed: the main job's default.
PATHNET_BEST = BEST_AUDIO["params"]
#: The first winner of that search (entry 7: the paper's three layers), which the
#: ``pathnet-*`` rows without ``-l2`` ran with; entry 23 (two layers) replaced it.
#: Written out, not derived from PATHNET_BEST, so that a later change of the best
#: settings cannot change what those saved rows mean.
PATHNET_L3 = {"n_steps": 100, "learning_rate": 0.1, "n_units": 64}


@dataclass(frozen=True)
class Method:
    """One benchmark method: a front end, optional speaker normalisation, a model."""

    # "functionals" (AcousticFunctionals, librosa) | "compare" | "egemaps" (openSMILE
    # functionals) | "faces" (face crops) | "hog" (their HOG)
    features: str
    model: str  # "svm" | "logreg" | "mlp" / "cnn" (FineTuneClassifier) | "pathnet"
    normalise: bool = False
    transfer: bool = False
    params: dict = field(default_factory=dict)
    # "functionals" only: AcousticFunctionals parameters other than the defaults (issue
    # 30's opt-in descriptors); the features cached under them, not the default's
    frontend: dict = field(default_factory=dict)

    def estimator(self, seed, threads):
        if self.model == "svm":
            # linear SVM on standardised functionals; C barely matters here (n << d)
            return make_pipeline(StandardScaler(), SVC(kernel="linear", C=1e-2))
        if self.model == "logreg":
            return make_pipeline(StandardScaler(), LogisticRegression(C=1e-2, max_iter=2000))
        if self.model == "mlp":
            # the capacity of one pathway; cascaded fine-tuning with transfer (Ng et al. 2015)
            return FineTuneClassifier(random_state=seed, n_threads=threads, **self.params)
        if self.model == "cnn":
            return FineTuneClassifier(architecture="cnn", random_state=seed, n_threads=threads,
                                      **{**SMALL_CNN, **self.params})
        return PathNetClassifier(random_state=seed, n_threads=threads, **self.params)


METHODS = {
    "compare-svm": Method("compare", "svm"),
    "compare-svm-norm": Method("compare", "svm", normalise=True),
    "egemaps-svm": Method("egemaps", "svm"),
    "egemaps-svm-norm": Method("egemaps", "svm", normalise=True),
    "faces-logreg": Method("faces", "logreg"),
    "faces-logreg-norm": Method("faces", "logreg", normalise=True),
    "mlp-norm-scratch": Method("compare", "mlp", normalise=True),
    "finetune-norm": Method("compare", "mlp", normalise=True, transfer=True),
    "faces-mlp-norm-scratch": Method("faces", "mlp", normalise=True),
    "faces-finetune-norm": Method("faces", "mlp", normalise=True, transfer=True),
    "faces-cnn-norm-scratch": Method("faces", "cnn", normalise=True),
    "faces-cnn-scratch": Method("faces", "cnn"),
    "pathnet-paper-norm-scratch": Method("compare", "pathnet", normalise=True),
    "pathnet-paper-norm-transfer": Method("compare", "pathnet", normalise=True, transfer=True),
    "pathnet-scratch": Method("compare", "pathnet", normalise=True, params=PATHNET_L3),
    "pathnet-transfer": Method(
        "compare", "pathnet", normalise=True, transfer=True, params=PATHNET_L3),
    "pathnet-faces-scratch": Method("faces", "pathnet", params=PATHNET_L3),
    "pathnet-faces-norm-scratch": Method(
        "faces", "pathnet", normalise=True, params=PATHNET_L3),
    "pathnet-faces-norm-transfer": Method(
        "faces", "pathnet", normalise=True, transfer=True, params=PATHNET_L3),
    # augmentation (direct first layer: row space cannot augment) against the same settings
    # without it, both at 50 generations to fit the machine (issue 12's training levers)
    "pathnet-faces-norm-scratch-g50": Method(
        "faces", "pathnet", normalise=True,
        params={**PATHNET_L3, "n_generations": 50, "first_layer": "direct"}),
    "pathnet-faces-norm-aug-scratch-g50": Method(
        "faces", "pathnet", normalise=True,
        params={**PATHNET_L3, "n_generations": 50, "augmentation": FaceAugment()}),
    # frozen source modules available to the genes (Fernando et al. 2017), not forced
    "pathnet-transfer-genes": Method(
        "compare", "pathnet", normalise=True, transfer=True,
        params={**PATHNET_L3, "frozen": "genes"}),
    # PATHNET_BEST: two layers instead of the paper's three, the one shape that beat
    # the search's control at both seeds (search entry 23)
    "pathnet-l2-scratch": Method("compare", "pathnet", normalise=True, params=PATHNET_BEST),
    "pathnet-l2-transfer": Method(
        "compare", "pathnet", normalise=True, transfer=True, params=PATHNET_BEST),
    "pathnet-faces-l2-norm-scratch": Method(
        "faces", "pathnet", normalise=True, params=PATHNET_BEST),
    "pathnet-faces-l2-norm-transfer": Method(
        "faces", "pathnet", normalise=True, transfer=True, params=PATHNET_BEST),
    # wider modules for faces (12288 inputs), tried on JAFFE before CK+48 (the CK+48 target)
    "pathnet-faces-l2-w128-norm-scratch": Method(
        "faces", "pathnet", normalise=True, params={**PATHNET_BEST, "n_units": 128}),
    # HOG of the crops (FaceHOG at Dalal and Triggs' settings, fixed before any run): the
    # faces' counterpart of functionals for speech; linear SVM peers as for speech
    "faces-hog-svm": Method("hog", "svm"),
    "faces-hog-svm-norm": Method("hog", "svm", normalise=True),
    "pathnet-faces-hog-l2-scratch": Method("hog", "pathnet", params=PATHNET_BEST),
    "pathnet-faces-hog-l2-transfer": Method(
        "hog", "pathnet", transfer=True, params=PATHNET_BEST),
    "pathnet-faces-hog-l2-norm-scratch": Method(
        "hog", "pathnet", normalise=True, params=PATHNET_BEST),
    "pathnet-faces-hog-l2-norm-transfer": Method(
        "hog", "pathnet", normalise=True, transfer=True, params=PATHNET_BEST),
    # convolutional modules (issue 13) on the crops, otherwise the paper's settings, not
    # tuned: the last feature maps flattened into the head (the default), or averaged (gap)
    "pathnet-faces-conv-scratch": Method("faces", "pathnet", params={"module": "conv"}),
    "pathnet-faces-conv-norm-scratch": Method(
        "faces", "pathnet", normalise=True, params={"module": "conv"}),
    "pathnet-faces-conv-norm-transfer": Method(
        "faces", "pathnet", normalise=True, transfer=True, params={"module": "conv"}),
    "pathnet-faces-conv-gap-scratch": Method(
        "faces", "pathnet", params={"module": "conv", "global_pooling": True}),
    "pathnet-faces-conv-gap-norm-scratch": Method(
        "faces", "pathnet", normalise=True, params={"module": "conv", "global_pooling": True}),
    # librosa acoustic functionals (issue 30), the main job's speech default: the same
    # linear SVM peers and PathNet settings as the ComParE rows
    "functionals-svm": Method("functionals", "svm"),
    "functionals-svm-norm": Method("functionals", "svm", normalise=True),
    "pathnet-l2-func-scratch": Method(
        "functionals", "pathnet", normalise=True, params=PATHNET_BEST),
    "pathnet-l2-func-transfer": Method(
        "functionals", "pathnet", normalise=True, transfer=True, params=PATHNET_BEST),
}

#: Rows taken from bench_paper.py's saved leave-one-group-out runs (same folds, seed 0,
#: paper settings: log-mel segments for speech, face crops for faces).
PAPER_ROWS = {
    "pathnet-transfer": "PathNet, paper settings, transfer",
    "pathnet-scratch": "PathNet, paper settings, scratch",
    "finetune": "cascaded fine-tuning",
    "finetune-scratch": "MLP from scratch",
    "linear": "linear model on segments",
}


def features(name, method, memory, n_jobs, log):
    """Features, labels and speakers of corpus ``name`` for ``method``.

    Functionals are one row per clip; face crops (and their HOG) are clips
    of one image (JAFFE, CK+48), flattened to one row per image for the
    linear models.
    """
    visual = CORPORA[name][1] == "visual"
    bunch = load_corpus(name, labels=VISUAL_SHARED_EMOTIONS if visual else None)
    t0 = time.perf_counter()
    if method.frontend:
        X = AcousticFunctionals(**method.frontend, n_jobs=n_jobs, memory=memory).fit_transform(
            bunch.filenames)
        if method.normalise:
            X = GroupStandardScaler().fit(X, bunch.target, groups=bunch.groups).transform(
                X, groups=bunch.groups)
    else:
        X = extract_features(name, bunch, features=method.features,
                             speaker_norm=method.normalise, n_jobs=n_jobs, memory=memory)
    if visual and method.model not in ("pathnet", "cnn"):  # images stay images for these
        X = np.stack([clip.mean(0).ravel() for clip in X])
    log(f"{name}: {len(X)} clips, {method.features}"
        f"{' speaker-normalised' if method.normalise else ''}, "
        f"{len(np.unique(bunch.groups))} speakers/subjects ({time.perf_counter() - t0:.0f} s)")
    return X, bunch.target, bunch.groups


def run(args, target, name, log):
    method = METHODS[name]
    spec = dict(TARGETS[target])
    if args.train_groups:
        spec["cv"] = FewTrainingGroups(args.train_groups)
    memory = Memory(args.cache, verbose=0) if args.cache else None
    X, y, groups = features(target, method, memory, args.n_jobs, log)
    estimator = method.estimator(args.seed, args.threads)
    if method.model == "pathnet" and args.generations:  # for quick trials only
        estimator.set_params(n_generations=args.generations)
    result = {"target": target, "method": name, "features": method.features,
              **({"frontend": method.frontend} if method.frontend else {}),
              "normalise": method.normalise, "transfer": method.transfer,
              "params": {k: v for k, v in estimator.get_params().items() if "__" not in k},
              "cv": str(spec["cv"]), "seed": args.seed, "threads": args.threads}
    inspect = None
    if method.transfer:
        sources = []
        for source in spec["sources"]:
            Xs, ys, _ = features(source, method, memory, args.n_jobs, log)
            sources.append((Xs, ys))
        t0 = time.perf_counter()
        estimator.fit_transfer([s[0] for s in sources], [s[1] for s in sources])
        result["source_seconds"] = time.perf_counter() - t0
        before = [war_score(ys, estimator.predict_source(Xs, source=k))
                  for k, (Xs, ys) in enumerate(sources)]
        result["source_WAR_before"] = before
        log(f"fit_transfer on {' + '.join(spec['sources'])}: source WAR {before} "
            f"({result['source_seconds']:.0f} s)")

        def inspect(model):
            return {"source_WAR_after": [war_score(ys, model.predict_source(Xs, source=k))
                                         for k, (Xs, ys) in enumerate(sources)]}

    res = evaluate(estimator, X, y, groups, cv=spec["cv"], log=log, inspect=inspect)
    res.pop("predictions")
    result.update(res)
    if method.transfer:
        after = np.array([f["source_WAR_after"] for f in res["folds"]])
        result["forgetting"] = float(np.max(np.abs(after - np.array(before))))
    OUT.mkdir(parents=True, exist_ok=True)
    # another seed is a check beside the seed-0 row, not a replacement (--summary: seed 0)
    suffix = "" if args.seed == 0 else f"-seed{args.seed}"
    if args.train_groups:  # a regime of its own beside the full folds
        suffix = f"-train{args.train_groups}{suffix}"
    if method.model == "pathnet" and args.generations:  # other generations beside the 200
        suffix = f"-g{args.generations}{suffix}"
    write_json(OUT / f"{target}-{name}{suffix}.json", result)
    log(f"{target} {name}: {row_scores(res['folds'])} pooled WAR {res['clip']['WAR']:.3f} "
        f"UAR {res['clip']['UAR']:.3f} ({res['seconds']:.0f} s)")


#: The search that chose PATHNET_BEST: PathNet from scratch on RAVDESS (a source
#: corpus), eGeMAPSv02 functionals (88: cheap), speaker-normalised, GroupKFold(4)
#: over its 24 actors, 200 generations, seed 0; the best clip WAR wins. Entries
#: 0-7 chose PATHNET_BEST; 8-15 add PathNetClassifier's training levers (weight
#: decay, held-out fitness, final steps, tie-break) to it; none beat it (RESULTS.md).
SEARCH_GRID = [
    {},
    {"n_steps": 50, "learning_rate": 0.05},
    {"n_steps": 50, "learning_rate": 0.1},
    {"n_steps": 50, "learning_rate": 0.05, "batch_size": 32},
    {"n_steps": 100, "learning_rate": 0.05},
    {"n_steps": 100, "learning_rate": 0.1},
    {"n_steps": 50, "learning_rate": 0.05, "n_units": 64},
    {"n_steps": 100, "learning_rate": 0.1, "n_units": 64},
    # 8-11: training levers of PathNetClassifier layered on the winner above (issue 12)
    {"n_steps": 100, "learning_rate": 0.1, "n_units": 64, "weight_decay": 1e-3},
    {"n_steps": 100, "learning_rate": 0.1, "n_units": 64, "fitness": "validation"},
    {"n_steps": 100, "learning_rate": 0.1, "n_units": 64, "fitness": "validation",
     "weight_decay": 1e-3},
    {"n_steps": 100, "learning_rate": 0.1, "n_units": 64, "weight_decay": 1e-2},
    # 12-13: the kept pathway trained alone for T more steps after the last tournament
    {"n_steps": 100, "learning_rate": 0.1, "n_units": 64, "final_steps": 100},
    {"n_steps": 100, "learning_rate": 0.1, "n_units": 64, "final_steps": 100,
     "fitness": "validation"},
    {"n_steps": 100, "learning_rate": 0.1, "n_units": 64, "final_steps": 100,
     "fitness": "validation", "validation_fraction": 0.1},
    # 15: tournament ties (training fitness 1.0 both) go to the lower training loss
    {"n_steps": 100, "learning_rate": 0.1, "n_units": 64, "tie_break": "loss"},
    # 16-17: heavy-ball momentum, learning rate scaled so that lr / (1 - momentum) = 0.1
    {"n_steps": 100, "learning_rate": 0.01, "n_units": 64, "momentum": 0.9},
    {"n_steps": 100, "learning_rate": 0.05, "n_units": 64, "momentum": 0.5},
    # 18: frozen source modules available to the genes, not always active (Fernando et
    # al. 2017); for --search-source (from scratch it equals entry 7)
    {"n_steps": 100, "learning_rate": 0.1, "n_units": 64, "frozen": "genes"},
    # 19-24: the super-network's shape around the winner (modules per layer a pathway
    # averages, module width, modules per layer, layers, steps per tournament)
    {"n_steps": 100, "learning_rate": 0.1, "n_units": 64, "n_active": 1},
    {"n_steps": 100, "learning_rate": 0.1, "n_units": 64, "n_active": 2},
    {"n_steps": 100, "learning_rate": 0.1, "n_units": 128},
    {"n_steps": 100, "learning_rate": 0.1, "n_units": 64, "n_modules": 10},
    {"n_steps": 100, "learning_rate": 0.1, "n_units": 64, "n_layers": 2},
    {"n_steps": 200, "learning_rate": 0.1, "n_units": 64},
    # 25: the two best shape changes together
    {"n_steps": 100, "learning_rate": 0.1, "n_units": 64, "n_layers": 2, "n_active": 1},
    # 26-28: around the two-layer winner (one layer; wider; smaller learning rate)
    {"n_steps": 100, "learning_rate": 0.1, "n_units": 64, "n_layers": 1},
    {"n_steps": 100, "learning_rate": 0.1, "n_units": 128, "n_layers": 2},
    {"n_steps": 100, "learning_rate": 0.05, "n_units": 64, "n_layers": 2},
    # 29: entry 18's transfer lever on the two-layer winner (for --search-source, against
    # entry 23 there)
    {"n_steps": 100, "learning_rate": 0.1, "n_units": 64, "n_layers": 2, "frozen": "genes"},
    # 30-35: around the two-layer winner for the 3,020 librosa functionals (issue 30; with
    # --search-features functionals): weight decay, narrower modules, more steps, fewer
    # active modules, a larger learning rate
    {"n_steps": 100, "learning_rate": 0.1, "n_units": 64, "n_layers": 2, "weight_decay": 1e-3},
    {"n_steps": 100, "learning_rate": 0.1, "n_units": 64, "n_layers": 2, "weight_decay": 1e-2},
    {"n_steps": 100, "learning_rate": 0.1, "n_units": 32, "n_layers": 2},
    {"n_steps": 200, "learning_rate": 0.1, "n_units": 64, "n_layers": 2},
    {"n_steps": 100, "learning_rate": 0.1, "n_units": 64, "n_layers": 2, "n_active": 2},
    {"n_steps": 100, "learning_rate": 0.2, "n_units": 64, "n_layers": 2},
    # 36-37: the source's best pathway seeding the target population (issue 31; for
    # --search-source), with the frozen modules always active or where genes select them
    {"n_steps": 100, "learning_rate": 0.1, "n_units": 64, "n_layers": 2, "seed_pathway": True},
    {"n_steps": 100, "learning_rate": 0.1, "n_units": 64, "n_layers": 2, "frozen": "genes",
     "seed_pathway": True},
    # 38-39: fitnesses that still tell pathways apart once a small target is fitted (issue
    # 31: the training fitness saturates at 1.0 within a few generations; with
    # --search-train-groups): held-out clip accuracy, and the loss deciding ties
    {"n_steps": 100, "learning_rate": 0.1, "n_units": 64, "n_layers": 2,
     "fitness": "validation"},
    {"n_steps": 100, "learning_rate": 0.1, "n_units": 64, "n_layers": 2, "tie_break": "loss"},
    # 40-41: one pathway per emotion of each source (Nguyen et al. 2020, end of Sec. 4.1),
    # frozen modules always active (with 14 source classes every module ends up frozen:
    # the target trains its head on the sources' features) or where genes select them
    {"n_steps": 100, "learning_rate": 0.1, "n_units": 64, "n_layers": 2,
     "pathway_per_class": True},
    {"n_steps": 100, "learning_rate": 0.1, "n_units": 64, "n_layers": 2,
     "pathway_per_class": True, "frozen": "genes"},
    # 42-45: a smaller share for the frozen modules in a layer's average (frozen_weight),
    # and the frozen modules fine-tuned at a tenth and at a third of the learning rate
    # (frozen_learning_rate: no longer zero-forgetting inside the super-network)
    {"n_steps": 100, "learning_rate": 0.1, "n_units": 64, "n_layers": 2, "frozen_weight": 0.5},
    {"n_steps": 100, "learning_rate": 0.1, "n_units": 64, "n_layers": 2, "frozen_weight": 0.25},
    {"n_steps": 100, "learning_rate": 0.1, "n_units": 64, "n_layers": 2,
     "frozen_learning_rate": 0.01},
    {"n_steps": 100, "learning_rate": 0.1, "n_units": 64, "n_layers": 2,
     "frozen_learning_rate": 0.03},
]


def search(args, log):
    """The search on RAVDESS; with ``--search-source``, transfer from those corpora first.

    The transfer search (for levers aimed at transfer, which a search from
    scratch cannot measure) uses RAVDESS as the target, so no target speaker
    of a benchmark target is involved; its sources (EMOVO, EMO-DB) are only
    trained on. With ``--search-train-groups K`` each of RAVDESS' 24 actors is
    scored by a model trained on K other actors (``FewTrainingGroups``: the
    small-target regime of the learning curve) instead of ``GroupKFold(4)``.
    Every entry's folds are saved under ``results/accuracy/search/`` so that
    ``--search-compare`` can pair two entries fold by fold.
    """
    memory = Memory(args.cache, verbose=0) if args.cache else None
    method = Method(args.search_features, "pathnet", normalise=True)
    X, y, groups = features("ravdess", method, memory, args.n_jobs, log)
    sources = [] if not args.search_source else args.search_source.split("+")
    source_X, source_y = [], []
    for name in sources:
        Xs, ys, _ = features(name, method, memory, args.n_jobs, log)
        source_X.append(Xs)
        source_y.append(ys)
    cv = (FewTrainingGroups(args.search_train_groups) if args.search_train_groups
          else GroupKFold(n_splits=4))
    only = range(len(SEARCH_GRID)) if args.search_only is None else args.search_only
    for index in only:
        params = SEARCH_GRID[index]
        if args.generations is not None:
            params = {**params, "n_generations": args.generations}
        estimator = PathNetClassifier(random_state=args.seed, n_threads=args.threads, **params)
        label = f"{index}: {params or 'paper'}"
        if sources:
            t0 = time.perf_counter()
            estimator.fit_transfer(source_X, source_y)
            label += (f" <- {args.search_source} (source phase "
                      f"{time.perf_counter() - t0:.0f} s)")
        res = evaluate(estimator, X, y, groups, cv=cv, log=log)
        res.pop("predictions")
        write_json(search_file(args, index), {"entry": index, "params": params,
                                              "sources": sources, "cv": str(cv), **res})
        log(f"| {label} | {res['clip']['WAR']:.3f} | "
            f"{res['clip']['UAR']:.3f} | {res['seconds']:.0f} |")


def search_file(args, index, source=None):
    """Where ``--search`` saves entry ``index`` of a run (``source``: another run's)."""
    source = args.search_source if source is None else source
    regime = f"train{args.search_train_groups}" if args.search_train_groups else "kfold4"
    generations = "" if args.generations is None else f"-g{args.generations}"
    return (OUT / "search" / f"{args.search_features}-{source or 'scratch'}-{regime}"
            f"{generations}-seed{args.seed}-{index}.json")


def search_compare(args, log):
    """Pair two saved search entries fold by fold: ``A`` minus ``B``, WAR and UAR."""
    runs = []
    for spec in args.search_compare:  # "23": this run's sources; "23@": scratch
        entry, at, source = spec.partition("@")
        runs.append(json.loads(search_file(args, int(entry), source if at else None)
                               .read_text()))
    for key in ("clip_WAR", "clip_UAR"):
        d = paired_difference(runs[0]["folds"], runs[1]["folds"], key)
        log(f"{key}: {args.search_compare[0]} {runs[0]['clip'][key[5:]]:.3f} - "
            f"{args.search_compare[1]} {runs[1]['clip'][key[5:]]:.3f}: {d.mean:+.3f} ± "
            f"{d.std:.3f} ({d.wins} / {d.ties} / {d.losses}, p = {d.p_value:.3f})")


def mean_std(folds, key):
    return "{:.3f} ± {:.3f}".format(*fold_mean_std(folds, key))


def row_scores(folds):
    return f"WAR {mean_std(folds, 'clip_WAR')} UAR {mean_std(folds, 'clip_UAR')}"


def summary(log):
    for target, spec in TARGETS.items():
        rows = []
        for name in METHODS:
            path = OUT / f"{target}-{name}.json"
            if not path.exists():
                continue
            r = json.loads(path.read_text())
            seconds = r["seconds"] + r.get("source_seconds", 0.0)
            forgetting = f"{r['forgetting']:.3f}" if "forgetting" in r else ""
            rows.append(f"| {name} | {mean_std(r['folds'], 'clip_WAR')} | "
                        f"{mean_std(r['folds'], 'clip_UAR')} | {r['clip']['WAR']:.3f} | "
                        f"{r['clip']['UAR']:.3f} | {forgetting} | {seconds:.0f} |")
        saved = HERE / "results" / (spec["paper_results"] or "none") / "loso-g200.json"
        if spec["paper_results"] and saved.exists() and spec["cv"].__class__ is LeaveOneGroupOut:
            paper = json.loads(saved.read_text())
            for key, label in PAPER_ROWS.items():
                res = paper["methods"].get(key)
                if res is None:
                    continue
                seconds = res["seconds"] + res.get("source_seconds", 0.0)
                front = "face crops" if CORPORA[target][1] == "visual" else "log-mel"
                rows.append(f"| {label} ({front}) [bench_paper] | "
                            f"{mean_std(res['folds'], 'clip_WAR')} | "
                            f"{mean_std(res['folds'], 'clip_UAR')} | {res['clip']['WAR']:.3f} | "
                            f"{res['clip']['UAR']:.3f} |  | {seconds:.0f} |")
        if not rows:
            continue
        log(f"\n#### {target} <- {' + '.join(spec['sources'])}, {spec['cv']}, clip level\n")
        log("| method | WAR (mean ± std over folds) | UAR | pooled WAR | pooled UAR | "
            "forgetting | time (s) |")
        log("|---|---|---|---|---|---|---|")
        for row in rows:
            log(row)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--target", choices=sorted(TARGETS), default="emodb")
    parser.add_argument("--methods", nargs="+", choices=sorted(METHODS), default=[])
    parser.add_argument("--generations", type=int, default=None,
                        help="PathNet generations per task (default: 200, the paper's)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None, help="torch threads per process")
    parser.add_argument("--n-jobs", type=int, default=1, help="feature-extraction workers")
    parser.add_argument("--cache", default=".skpathnet_cache", help="joblib feature cache")
    parser.add_argument("--summary", action="store_true", help="print the tables of saved runs")
    parser.add_argument("--search", action="store_true",
                        help="run the search that chose PATHNET_BEST (on RAVDESS)")
    parser.add_argument("--search-only", type=int, nargs="+", default=None, metavar="K",
                        help="with --search: run only these SEARCH_GRID entries (0-based)")
    parser.add_argument("--train-groups", type=int, default=None, metavar="K",
                        help="leave one speaker out, but train on only K random other "
                        "speakers per fold (the small-corpus regime; files *-trainK.json)")
    parser.add_argument("--search-features", choices=["egemaps", "functionals"],
                        default="egemaps",
                        help="with --search: the front end (egemaps: the search that chose "
                        "PATHNET_BEST; functionals: the librosa default's 3,020)")
    parser.add_argument("--search-source", choices=["emovo", "emodb", "emovo+emodb"],
                        default=None,
                        help="with --search: transfer from these corpora first (RAVDESS, "
                        "the search's target, is not a benchmark target's test corpus here)")
    parser.add_argument("--search-train-groups", type=int, default=None, metavar="K",
                        help="with --search: each actor scored by a model trained on K other "
                        "actors (FewTrainingGroups), not GroupKFold(4)")
    parser.add_argument("--search-compare", nargs=2, default=None, metavar="ENTRY[@SOURCE]",
                        help="pair two saved --search entries of the same regime fold by fold "
                        "(e.g. 23@emovo+emodb 23@: transfer minus scratch)")
    args = parser.parse_args(argv)
    if (args.search_source or args.search_train_groups) and not (args.search
                                                                 or args.search_compare):
        parser.error("--search-source and --search-train-groups need --search "
                     "(or --search-compare)")
    if args.search_only is not None:
        bad = [k for k in args.search_only if not 0 <= k < len(SEARCH_GRID)]
        if not args.search:
            parser.error("--search-only needs --search")
        if bad:
            parser.error(f"--search-only: no SEARCH_GRID entries {bad} "
                         f"(0 to {len(SEARCH_GRID) - 1})")

    def log(line):
        print(line, flush=True)

    if args.summary:
        summary(log)
        return 0
    if args.search_compare:
        search_compare(args, log)
        return 0
    if args.search:
        search(args, log)
        return 0
    if not args.methods:
        parser.error("give --methods (or --summary)")
    for name in args.methods:
        run(args, args.target, name, log)
    return 0


if __name__ == "__main__":
    sys.exit(main())
