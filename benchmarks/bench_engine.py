"""Speed and memory of the PathNet engine, against a naive reference and the GEMM bound.

Command (from the repository root)::

    SKPATHNET_DATA=/work/shared/data .venv/bin/python benchmarks/bench_engine.py

``--quick`` runs a smoke version (60 clips, smaller sizes, fewer repeats) in
about 30 s; the full run takes about 3 minutes on 2 cores and needs ~6 GB of
RAM. Every part runs on the same data in the same process (memory in fresh
subprocesses), with torch's intra-op threads set by ``--threads`` (default 2)
and all generators seeded. Output is Markdown.

Parts
-----
0. **Features.** EMO-DB (``load_emodb`` under ``$SKPATHNET_DATA``) through
   :class:`~skpathnet.LogMelSegmenter`; throughput in clips per second for
   ``n_jobs`` 1 and 2, without cache (``memory=None``), with a fresh
   temporary ``joblib.Memory`` (cold) and a second call on that Memory
   (cached). The segments of the first call are the real training data below
   (standardised per feature, as ``PathNetClassifier(standardize=True)`` does).
1. **Engine vs naive.** One generation = two pathways trained for
   ``T = n_segments // 64`` plain-SGD steps each (batch 64, lr 0.02, L=3,
   M=20, N=4, 20 units), ``PathNetwork``/``TaskHead`` from seeded
   generators, trained by ``skpathnet.engine.train_pathways``, with
   ``first_layer="auto"`` (``PathNetClassifier``'s own rule: row space for
   n <= d / 2) and with ``first_layer="direct"``. Every
   genotype has 4 distinct modules per layer. The naive reference (in this
   file) is a textbook PyTorch version: an ``nn.Linear`` per module in an
   ``nn.ModuleList`` per layer, a Python loop over the active modules whose
   outputs are stacked and averaged, a ``DataLoader(TensorDataset,
   batch_size=64, shuffle=True)``, ``torch.optim.SGD`` over all parameters of
   the super-network, the same initial weights and genotypes. Also timed:
   ``skpathnet.engine.evolve(n_generations=1, population_size=2)``
   (random genotypes, so sometimes fewer than 4 distinct modules) and a
   GEMM-only generation (2 T x the two layer-1 GEMMs of part 2). The rows
   run *interleaved*: each round (one untimed warm-up round first) runs one
   generation of every row in rotating order, and ratios are medians of the
   per-round ratios. On a shared VM the same GEMM drifts by +-30 % within
   seconds, so timing one implementation after the other is not comparable.
1b. **Conv modules** (Engine v2). The same segments as (3, 64, 64) images;
   ``ConvModules(n_channels=8, kernel_size=3)``, each module conv -> 2 x 2
   average pooling -> ReLU, the last maps flattened into the head; ours (one
   stride-2 ``conv2d`` per layer on the gathered modules' pooled kernels,
   ``pooled_kernel``, autograd), ours with that fusion off (full-resolution
   ``conv2d``, then ``avg_pool2d``) vs a naive net (one ``nn.Conv2d`` per
   module, then ``F.avg_pool2d`` and ReLU, Python loop, ``DataLoader``,
   ``optim.SGD``), interleaved rounds of a few steps, projected to a
   generation (2T steps) and a 200-generation fold.
1c. **Conv scaling and memory**: part 3's rows (time per generation, peak
   memory of a fit) for conv modules at 1x, 2x, 4x the EMO-DB segment count.
2. **GEMM bound.** float32 ``torch.mm`` on pre-allocated operands (warm-up,
   median of repeats): the first layer's forward (64 x 12288) @ (12288 x 80)
   and weight gradient (12288 x 64) @ (64 x 80) (the left operand a
   transposed view, as ``sgd_step`` passes it), the engine's fused update
   ``W.addmm_(x.T, dz, alpha=-lr)`` of the same shape, and a 2048^3 square
   GEMM. The engine's FLOPs per step and pathway are counted as the first
   layer only: ``2 * 64 * 12288 * 80`` (forward) + ``2 * 64 * 12288 * 80``
   (weight gradient) = 251.7 MFLOP; the input gradient of layer 1 is not
   needed. The small layers (2, 3 and the head: forward, input and weight
   gradients) add 1.28 MFLOP (0.5 %) and are printed but not counted. The
   engine's share of the GEMM throughput is the paired median of (GEMM-only
   time / engine time) over the rounds of part 1.
3. **Scaling.** Time per generation on synthetic float32 N(0, 1) data of
   12288 features, 7 classes, for 1x, 2x, 4x, 8x the EMO-DB segment count
   (T grows with n), the four sizes interleaved in rounds as in part 1 (all
   four data sets are held at once: 15x the base features). Peak memory:
   for each size a fresh subprocess creates X (float32, no float64
   temporary), reads its RSS (baseline, ``VmRSS``),
   resets the kernel's RSS high-water mark (``echo 5 > /proc/self/clear_refs``),
   runs ``PathNetClassifier(n_generations=1, population_size=2).fit(X, y)``
   and reads the high-water mark ``VmHWM``; "extra" = peak - baseline,
   compared with ``X.nbytes``. (``ru_maxrss`` is printed too but is not
   usable here: a process started by ``subprocess`` inherits its parent's
   high-water mark at exec, and the parent holds the data.) The slope of
   extra over X.nbytes between 4x and 8x is the memory cost per byte of
   features (the standardiser's fixed float64 chunks, 2 x 256 rows, ~50 MB,
   are part of the constant).
4. **Profile.** One generation's wall time split into gather, the
   mini-batches (randperm, index_select), the layer-1 forward GEMM, the rest
   of the forward (+ loss gradient), the layer-1 fused update GEMM
   (``addmm_``), the rest of the hand-written backward and scatter, timed on
   the engine's own ``train_pathways`` through ``skpathnet.engine.step_probe``
   (a lap timer called at the end of each phase; CPU ops are synchronous; the
   probed step is checked to be bit-identical), next to a GEMM-only
   generation run right after each one; then (full run only)
   ``torch.profiler``'s top operators for one pathway.
"""

import argparse
import datetime
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

N_FEATURES = 3 * 64 * 64
N_LAYERS, N_MODULES, N_ACTIVE, N_UNITS = 3, 20, 4, 20
BATCH, LR = 64, 0.02
N_CLASSES_SYNTH = 7
FLOP_L1 = 2 * BATCH * N_FEATURES * N_ACTIVE * N_UNITS  # one GEMM of layer 1


# --------------------------------------------------------------------------- helpers
def load_avg():
    return "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def median_time(fn, repeat, warmup):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def distinct_genotype(rng):
    """(L, N) genotype with N distinct modules per layer."""
    return np.stack(
        [rng.choice(N_MODULES, N_ACTIVE, replace=False) for _ in range(N_LAYERS)]
    ).astype(np.int64)


def table(header, rows):
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---:" for _ in header) + "|")
    for row in rows:
        print("| " + " | ".join(str(c) for c in row) + " |")
    print()


# --------------------------------------------------------------------------- runners
# Each runner times one generation; the main loop interleaves them in rounds
# so that every implementation sees the same machine state (on a shared VM the
# same GEMM varies by +-30 % from one second to the next).
def build_engine(n_features, n_classes, seed, modules=None):
    """PathNetwork, TaskHead and shuffle generator from the engine's public API, seeded."""
    from skpathnet.engine import LinearModules, PathNetwork, TaskHead

    modules = modules or LinearModules(n_features, N_UNITS)
    init = torch.Generator().manual_seed(2 * seed)
    shuffle = torch.Generator().manual_seed(2 * seed + 1)
    device = torch.device("cpu")
    network = PathNetwork(modules, N_LAYERS, N_MODULES, device=device, generator=init)
    head = TaskHead(network.n_outputs, n_classes, device=device, generator=init)
    return network, head, shuffle


def first_layer_auto(n_samples, n_features):
    """``PathNetClassifier(first_layer="auto")``'s choice for linear modules: the package's rule."""
    from skpathnet import PathNetClassifier

    return PathNetClassifier(first_layer="auto")._resolve_first_layer(n_samples, n_features)


class EngineRunner:
    """Our engine: ``train_pathways`` for each genotype of a pair (serial tournament).

    ``first_layer`` as in ``PathNetClassifier`` ("auto" resolved here); the
    row-space precomputation (``PathNetwork.bind``) runs once, as once per
    fit, and is timed as ``setup_s``.
    """

    tournament = "serial"

    def __init__(self, X, y, n_classes, n_steps, seed, first_layer="auto", modules=None):
        from skpathnet.engine import TrainSettings

        self.X, self.y = X, y
        self.settings = TrainSettings(n_steps=n_steps, batch_size=BATCH, learning_rate=LR)
        self.network, self.head, self.shuffle = build_engine(X.shape[1], n_classes, seed,
                                                             modules)
        if first_layer == "auto":
            first_layer = first_layer_auto(*X.shape) if modules is None else "direct"
        self.first_layer = first_layer
        start = time.perf_counter()
        self.inputs = self.network.bind(X, first_layer=first_layer)
        self.setup_s = time.perf_counter() - start

    def generation(self, pair):
        from skpathnet.engine import train_pathways

        start = time.perf_counter()
        if self.tournament == "parallel":
            train_pathways(self.network, list(pair), self.head, self.inputs, self.y,
                           self.settings, self.shuffle)
        else:
            for genotype in pair:
                train_pathways(self.network, [genotype], self.head, self.inputs, self.y,
                               self.settings, self.shuffle)
        return time.perf_counter() - start


class EvolveRunner(EngineRunner):
    """Our engine through ``evolve(n_generations=1, population_size=2)``, direct layer 1.

    (``evolve`` materialises row-space weights at its end, once per fit; a
    one-generation ``evolve`` would time that every round, so this row uses
    the direct first layer.)
    """

    def __init__(self, X, y, n_classes, n_steps, seed):
        super().__init__(X, y, n_classes, n_steps, seed, first_layer="direct")
        self.rng = np.random.RandomState(seed)

    def generation(self, pair=None):
        from skpathnet.engine import EvolutionSettings, evolve

        settings = EvolutionSettings(train=self.settings, n_active=N_ACTIVE, population_size=2,
                                     n_generations=1)
        start = time.perf_counter()
        evolve(self.network, self.head, self.inputs, self.y, settings, rng=self.rng,
               generator=self.shuffle)
        return time.perf_counter() - start


class ParallelRunner(EngineRunner):
    """Our engine, ``tournament="parallel"``: both pathways side by side."""

    tournament = "parallel"


class RelatedPairRunner(ParallelRunner):
    """Parallel tournament on a pair as evolution makes them: a winner's mutant.

    The timed pair is (a, mutate(a)): the shape of a tournament once the
    population descends from a few winners (see ``pair_overlap``).
    """

    def __init__(self, X, y, n_classes, n_steps, seed):
        super().__init__(X, y, n_classes, n_steps, seed)
        self.rng = np.random.RandomState(seed + 1)

    def generation(self, pair):
        from skpathnet.engine import mutate

        return super().generation((pair[0], mutate(pair[0], N_MODULES, self.rng)))


def evolution_run(X, y, n_classes, n_steps, n_generations, tournament, seed):
    """Time ``evolve`` with population 20 as a fit would run it.

    Returns
    -------
    seconds : float
    fitness : float
        Mean winner fitness over the last 10 generations.
    union : float
        Mean number of distinct layer-1 modules of the two pathways.
    """
    from skpathnet.engine import EvolutionSettings, TrainSettings, evolve

    network, head, shuffle = build_engine(X.shape[1], n_classes, seed)
    settings = EvolutionSettings(
        train=TrainSettings(n_steps=n_steps, batch_size=BATCH, learning_rate=LR),
        n_active=N_ACTIVE, population_size=20, n_generations=n_generations,
        tournament=tournament,
    )
    start = time.perf_counter()
    inputs = network.bind(X, first_layer=first_layer_auto(*X.shape))
    _, _, history = evolve(network, head, inputs, y, settings,
                           rng=np.random.RandomState(seed), generator=shuffle)
    seconds = time.perf_counter() - start
    fitness = np.mean([r["fitness"][r["winner"]] for r in history[-10:]])
    union = np.mean([len(np.union1d(a[0], b[0])) for a, b in (r["genotypes"] for r in history)])
    return seconds, fitness, union


def pair_overlap(n_generations=200, population=20, runs=200, seed=0):
    """Distinct layer-1 modules of the two tournament pathways, by generation.

    Neutral-drift simulation of the genetic algorithm (random winners, the
    paper's population, mutation and genotype shape): a lower bound on how
    fast pairs come to share modules, since selection only adds to it.

    Returns
    -------
    mean_union : ndarray of shape (n_generations,)
        Mean number of distinct modules in the union of the pair's layer-1
        genes (8 = disjoint pathways of 4 modules, 4 = identical ones).
    """
    from skpathnet.engine import mutate, random_genotype

    rng = np.random.RandomState(seed)
    union = np.zeros(n_generations)
    for _ in range(runs):
        pop = [random_genotype(N_LAYERS, N_ACTIVE, N_MODULES, rng) for _ in range(population)]
        for g in range(n_generations):
            a, b = rng.choice(population, 2, replace=False)
            union[g] += len(np.union1d(pop[a][0], pop[b][0]))
            win, lose = (a, b) if rng.rand() < 0.5 else (b, a)
            pop[lose] = mutate(pop[win], N_MODULES, rng)
    return union / runs


class NaiveSuperNet(nn.Module):
    """Textbook PathNet: one nn.Linear per module, loop over active modules."""

    def __init__(self, network, head):
        super().__init__()
        self.layers = nn.ModuleList()
        for w, b in network.layers:
            modules = nn.ModuleList()
            for m in range(w.shape[0]):
                lin = nn.Linear(w.shape[1], w.shape[2])
                with torch.no_grad():
                    lin.weight.copy_(w[m].T)
                    lin.bias.copy_(b[m])
                modules.append(lin)
            self.layers.append(modules)
        self.head = nn.Linear(head.weight.shape[0], head.weight.shape[1])
        with torch.no_grad():
            self.head.weight.copy_(head.weight.T)
            self.head.bias.copy_(head.bias)

    def forward(self, x, genotype):
        h = x
        for modules, genes in zip(self.layers, genotype):
            outs = [torch.relu(modules[int(m)](h)) for m in sorted(set(genes.tolist()))]
            h = torch.stack(outs).mean(0)
        return self.head(h)


class NaiveRunner:
    """The naive reference: DataLoader, nn.Linear per module, optim.SGD."""

    def __init__(self, X, y, n_classes, n_steps, seed):
        from torch.utils.data import DataLoader, TensorDataset

        network, head, _ = build_engine(X.shape[1], n_classes, seed)
        self.net = NaiveSuperNet(network, head)  # same initial weights as ours
        self.loader = DataLoader(
            TensorDataset(X, y), batch_size=BATCH, shuffle=True,
            generator=torch.Generator().manual_seed(seed),
        )
        self.n_steps = n_steps

    def train_pathway(self, genotype):
        optimizer = torch.optim.SGD(self.net.parameters(), lr=LR)
        correct = seen = steps = 0
        while steps < self.n_steps:
            for xb, yb in self.loader:
                logits = self.net(xb, genotype)
                loss = F.cross_entropy(logits, yb)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                correct += (logits.argmax(1) == yb).sum().item()
                seen += len(yb)
                steps += 1
                if steps == self.n_steps:
                    break
        return correct / seen

    def generation(self, pair):
        start = time.perf_counter()
        for genotype in pair:
            self.train_pathway(genotype)
        return time.perf_counter() - start


class NaiveConvNet(nn.Module):
    """Textbook convolutional PathNet: one nn.Conv2d per module, loop over active modules."""

    def __init__(self, network, head):
        super().__init__()
        kind = network.modules
        self.pad = kind.kernel_size // 2
        self.layers = nn.ModuleList()
        for w, b in network.layers:
            modules = nn.ModuleList()
            for m in range(w.shape[0]):
                conv = nn.Conv2d(w.shape[2], w.shape[1], kind.kernel_size, padding=self.pad)
                with torch.no_grad():
                    conv.weight.copy_(w[m])
                    conv.bias.copy_(b[m])
                modules.append(conv)
            self.layers.append(modules)
        self.head = nn.Linear(head.weight.shape[0], head.weight.shape[1])
        with torch.no_grad():
            self.head.weight.copy_(head.weight.T)
            self.head.bias.copy_(head.bias)
        self.shape = kind.input_shape
        self.global_pooling = kind.global_pooling

    def forward(self, x, genotype):
        h = x.view(len(x), *self.shape)
        for modules, genes in zip(self.layers, genotype):
            outs = [torch.relu(F.avg_pool2d(modules[int(m)](h), 2))
                    for m in sorted(set(genes.tolist()))]
            h = torch.stack(outs).mean(0)
        return self.head(h.mean((2, 3)) if self.global_pooling else h.flatten(1))


class NaiveConvRunner(NaiveRunner):
    """The naive conv reference: DataLoader, nn.Conv2d per module, optim.SGD."""

    def __init__(self, X, y, n_classes, n_steps, seed, modules):
        from torch.utils.data import DataLoader, TensorDataset

        network, head, _ = build_engine(X.shape[1], n_classes, seed, modules)
        self.net = NaiveConvNet(network, head)
        self.loader = DataLoader(
            TensorDataset(X, y), batch_size=BATCH, shuffle=True,
            generator=torch.Generator().manual_seed(seed),
        )
        self.n_steps = n_steps


def check_same_conv_model(X, y, n_classes, genotype, seed, modules):
    """Max |logit difference| of the engine's conv pathway and the naive net at init."""
    from skpathnet.engine import Pathways

    network, head, _ = build_engine(X.shape[1], n_classes, seed, modules)
    net = NaiveConvNet(network, head)
    with torch.no_grad():
        xb = X[:BATCH]
        return float((Pathways.gather(network, [genotype]).logits(xb, head)
                      - net(xb, genotype)).abs().max())


class GemmRunner:
    """The GEMM bound of a generation: 2 T x (layer-1 forward + weight grad)."""

    def __init__(self, n_steps, seed):
        g = torch.Generator().manual_seed(seed)
        kh = N_ACTIVE * N_UNITS
        self.x = torch.randn(BATCH, N_FEATURES, generator=g)
        self.w = torch.randn(N_FEATURES, kh, generator=g)
        self.dz = torch.randn(BATCH, kh, generator=g)
        self.out_f = torch.empty(BATCH, kh)
        self.out_w = torch.empty(N_FEATURES, kh)
        self.n_steps = n_steps

    def generation(self, pair=None):
        x, w, dz, out_f, out_w = self.x, self.w, self.dz, self.out_f, self.out_w
        start = time.perf_counter()
        for _ in range(2 * self.n_steps):
            torch.mm(x, w, out=out_f)
            torch.mm(x.t(), dz, out=out_w)
        return time.perf_counter() - start


def interleaved(runners, pairs):
    """Time ``runners`` (dict name -> runner) in rounds, one generation each.

    Round 0 is an untimed warm-up. The order inside a round rotates.

    Returns
    -------
    times : dict name -> list of seconds, one per timed round
    """
    names = list(runners)
    times = {name: [] for name in names}
    for i, pair in enumerate(pairs):
        shift = i % len(names)
        for name in names[shift:] + names[:shift]:
            seconds = runners[name].generation(pair)
            if i > 0:
                times[name].append(seconds)
    return times


def paired_median(num, den):
    """Median over rounds of num[i] / den[i]."""
    return statistics.median(a / b for a, b in zip(num, den))


# --------------------------------------------------------------------------- GEMM
def gemm_widths(repeat, widths=tuple(range(20, 181, 20))):
    """Layer-1 step time (forward ``addmm`` + fused ``addmm_`` update) by width.

    Width = active modules x 20 units: 80 for a serial pathway of 4 modules,
    up to 160 for the union of a parallel tournament's two pathways.
    Interleaved over widths; median of ``repeat`` rounds.

    Returns
    -------
    ms : dict width -> milliseconds per step
    """
    g = torch.Generator().manual_seed(0)
    x = torch.randn(BATCH, N_FEATURES, generator=g)
    ops = {n: (torch.randn(N_FEATURES, n, generator=g) * 0.01, torch.zeros(n),
               torch.randn(BATCH, n, generator=g)) for n in widths}
    times = {n: [] for n in widths}
    for r in range(repeat + 3):
        for n, (w, b, dz) in ops.items():
            start = time.perf_counter()
            torch.addmm(b, x, w)
            w.addmm_(x.t(), dz, alpha=-1e-9)
            if r >= 3:
                times[n].append(time.perf_counter() - start)
    return {n: 1e3 * statistics.median(t) for n, t in times.items()}


def gemm_throughput(repeat):
    g = torch.Generator().manual_seed(0)
    k_h = N_ACTIVE * N_UNITS
    x = torch.randn(BATCH, N_FEATURES, generator=g)
    w = torch.randn(N_FEATURES, k_h, generator=g)
    dz = torch.randn(BATCH, k_h, generator=g)
    out_f = torch.empty(BATCH, k_h)
    out_w = torch.empty(N_FEATURES, k_h)
    n = 2048
    a = torch.randn(n, n, generator=g)
    b = torch.randn(n, n, generator=g)
    c = torch.empty(n, n)
    t_fwd = median_time(lambda: torch.mm(x, w, out=out_f), repeat, 10)
    t_wgrad = median_time(lambda: torch.mm(x.t(), dz, out=out_w), repeat, 10)
    # The engine's layer-1 update: the weight gradient accumulated into W.
    w_upd = w.clone()
    t_fused = median_time(lambda: w_upd.addmm_(x.t(), dz, alpha=-LR), repeat, 10)
    t_sq = median_time(lambda: torch.mm(a, b, out=c), max(5, repeat // 5), 2)
    # nn.Linear's layout, weights stored (k*H, D): x @ W.T and dz.T @ x.
    w_t = w.t().contiguous()
    out_wt = torch.empty(k_h, N_FEATURES)
    t_fwd_t = median_time(lambda: torch.mm(x, w_t.t(), out=out_f), repeat, 10)
    t_wgrad_t = median_time(lambda: torch.mm(dz.t(), x, out=out_wt), repeat, 10)
    return {
        "fwd_s": t_fwd, "wgrad_s": t_wgrad, "fused_s": t_fused, "square_s": t_sq, "square_n": n,
        "fwd_t_s": t_fwd_t, "wgrad_t_s": t_wgrad_t,
        "fwd_flops": FLOP_L1 / t_fwd, "wgrad_flops": FLOP_L1 / t_wgrad,
        "l1_flops": 2 * FLOP_L1 / (t_fwd + t_wgrad), "square_flops": 2 * n**3 / t_sq,
    }


def small_layer_flops(n_classes):
    kh = N_ACTIVE * N_UNITS
    per_layer = 3 * 2 * BATCH * N_UNITS * kh  # forward, input grad, weight grad
    head = 3 * 2 * BATCH * N_UNITS * n_classes
    return 2 * per_layer + head


# --------------------------------------------------------------------------- profile
# The rows of part 4, each the sum of engine phases (skpathnet.engine.step_probe).
PROFILE_PHASES = {
    "gather": ("gather",),
    "mini-batch: randperm + index_select": ("batch",),
    "forward: layer-1 addmm": ("layer1_forward",),
    "forward: rest + loss gradient": ("forward",),
    "update: layer-1 fused addmm_": ("layer1_update",),
    "backward: rest": ("backward",),
    "scatter + item": ("scatter",),
}
PROFILE_KEYS = list(PROFILE_PHASES)


class LapTimer:
    """A probe for ``step_probe``: the time since the previous call goes to the phase named.

    CPU ops are synchronous, so the laps time the work, not its launch.
    """

    def __init__(self):
        self.seconds = {}
        self.restart()

    def restart(self):
        self.last = time.perf_counter()

    def __call__(self, phase):
        now = time.perf_counter()
        self.seconds[phase] = self.seconds.get(phase, 0.0) + now - self.last
        self.last = now

    def parts(self):
        """Seconds per row of PROFILE_PHASES."""
        return {key: sum(self.seconds.get(p, 0.0) for p in phases)
                for key, phases in PROFILE_PHASES.items()}


def check_same_model(X, y, n_classes, genotype, seed):
    """Max |logit difference|: engine vs naive at init and after one SGD step,
    and ``linear_sgd_step`` with and without part 4's probe after one step."""
    from skpathnet.engine import Inputs, Pathways, linear_sgd_step, step_probe

    xb, yb = X[:BATCH], y[:BATCH]
    network, head, _ = build_engine(X.shape[1], n_classes, seed)
    net = NaiveSuperNet(network, head)
    pathway = Pathways.gather(network, [genotype])
    with torch.no_grad():
        init = float((pathway.logits(xb, head) - net(xb, genotype)).abs().max())
        linear_sgd_step(pathway, head, Inputs(xb), yb, torch.arange(BATCH), LR)
    optimizer = torch.optim.SGD(net.parameters(), lr=LR)
    optimizer.zero_grad()
    F.cross_entropy(net(xb, genotype), yb).backward()
    optimizer.step()
    network2, head2, _ = build_engine(X.shape[1], n_classes, seed)
    pathway2 = Pathways.gather(network2, [genotype])
    with torch.no_grad(), step_probe(LapTimer()):
        linear_sgd_step(pathway2, head2, Inputs(xb), yb, torch.arange(BATCH), LR)
    with torch.no_grad():
        ours = pathway.logits(xb, head)
        step = float((ours - net(xb, genotype)).abs().max())
        timed = float((ours - pathway2.logits(xb, head2)).abs().max())
    return init, step, timed


def profile_generation(X, y, n_classes, pairs, n_steps, seed):
    """Split generations into parts with the engine's own probe (s per generation).

    Each generation is :class:`EngineRunner`'s (``train_pathways`` per
    pathway, direct first layer) inside ``skpathnet.engine.step_probe`` with
    a :class:`LapTimer`. After each generation a GEMM-only generation
    (:class:`GemmRunner`) runs, so that the bound is measured under the same
    machine state. The first pair is a warm-up.
    """
    from skpathnet.engine import step_probe

    runner = EngineRunner(X, y, n_classes, n_steps, seed, first_layer="direct")
    gemm = GemmRunner(n_steps, seed)
    parts = dict.fromkeys(PROFILE_KEYS, 0.0)
    n_gen = 0
    total = gemm_total = 0.0
    faults = 0
    for i, pair in enumerate(pairs):
        flt0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        timer = LapTimer()
        with step_probe(timer):
            timer.restart()
            elapsed = runner.generation(pair)
        flt = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - flt0
        t_gemm_gen = gemm.generation()
        if i > 0:
            faults += flt
            n_gen += 1
            total += elapsed
            gemm_total += t_gemm_gen
            for key, value in timer.parts().items():
                parts[key] += value
    return (
        {k: v / n_gen for k, v in parts.items()}, total / n_gen, gemm_total / n_gen,
        faults / n_gen,
    )


def torch_profile(X, y, n_classes, genotype, n_steps, seed, rows=12):
    from torch.profiler import ProfilerActivity, profile

    runner = EngineRunner(X, y, n_classes, n_steps, seed, first_layer="direct")
    runner.generation([genotype])  # warm-up
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        runner.generation([genotype])
    return prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=rows)


# --------------------------------------------------------------------------- memory (subprocess)
def proc_status_bytes(field):
    """``VmRSS`` or ``VmHWM`` of this process from /proc/self/status, in bytes."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    return 0


def reset_peak_rss():
    """Reset the kernel's RSS high-water mark (Linux >= 4.0); False if impossible."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def memory_child(n_samples, threads, seed, module="linear"):
    """Run in a fresh interpreter: baseline RSS, fit, peak RSS; print JSON.

    ``module="conv"``: the same rows as (3, 64, 64) images, conv modules.
    """
    from skpathnet import PathNetClassifier

    torch.set_num_threads(threads)
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, N_FEATURES), dtype=np.float32)
    if module == "conv":
        X = X.reshape(n_samples, 3, 64, 64)
    y = rng.integers(0, N_CLASSES_SYNTH, n_samples)
    baseline = proc_status_bytes("VmRSS")
    maxrss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    reset = reset_peak_rss()
    start = time.perf_counter()
    PathNetClassifier(
        n_generations=1, population_size=2, n_threads=threads, random_state=seed,
        first_layer=os.environ.get("BENCH_FIRST_LAYER", "direct"), module=module,
    ).fit(X, y)
    seconds = time.perf_counter() - start
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    peak = proc_status_bytes("VmHWM") if reset else maxrss
    print(json.dumps({
        "n": n_samples, "nbytes": X.nbytes, "baseline": baseline,
        "maxrss_before": maxrss_before, "maxrss": maxrss, "peak": peak,
        "peak_source": "VmHWM after reset" if reset else "ru_maxrss", "fit_s": seconds,
    }))


def measure_memory(n_samples, threads, seed, module="linear"):
    out = subprocess.run(
        [sys.executable, os.path.abspath(__file__), "--memory-child", str(n_samples),
         "--memory-module", module, "--threads", str(threads), "--seed", str(seed)],
        check=True, capture_output=True, text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------- features
def feature_throughput(files, n_jobs_list):
    from joblib import Memory

    from skpathnet.transformers import LogMelSegmenter

    # Untimed warm-up: imports, librosa caches, the loky worker pool.
    for n_jobs in n_jobs_list:
        LogMelSegmenter(n_jobs=n_jobs).transform(files[: 2 * n_jobs])
    rows, clips_out = [], None
    for n_jobs in n_jobs_list:
        start = time.perf_counter()
        clips = LogMelSegmenter(n_jobs=n_jobs).transform(files)
        rows.append((n_jobs, "none", time.perf_counter() - start))
        if clips_out is None:
            clips_out = clips
        with tempfile.TemporaryDirectory() as tmp:
            memory = Memory(tmp, verbose=0)
            for mode in ("cold", "cached"):
                start = time.perf_counter()
                LogMelSegmenter(n_jobs=n_jobs, memory=memory).transform(files)
                rows.append((n_jobs, mode, time.perf_counter() - start))
    return rows, clips_out


def scaling_part(n_base, factors, rounds, seed, threads, modules=None):
    """Part 3: time per generation (T = n / 64) and peak memory of a fit against n.

    Synthetic N(0, 1) rows of 12288 features (images of (3, 64, 64) for conv
    ``modules``), ``n_base * f`` of them for each factor ``f``, timed in
    interleaved rounds; peak memory of a one-generation fit in a subprocess.
    Prints the table; returns its rows.
    """
    g = torch.Generator().manual_seed(seed)
    sizes = {f: f * n_base for f in factors}
    module = "linear" if modules is None else modules.kind
    scale_runners = {}
    for f in factors:
        X = torch.randn(sizes[f], N_FEATURES, generator=g)
        y = torch.randint(0, N_CLASSES_SYNTH, (sizes[f],), generator=g)
        # direct first layer: the row-space cost grows with n (it is only chosen for
        # n <= d / 2, where it is below the direct cost)
        scale_runners[f] = EngineRunner(
            X, y, N_CLASSES_SYNTH, max(1, sizes[f] // BATCH), seed, first_layer="direct",
            modules=modules,
        )
    srng = np.random.RandomState(seed + 1)
    spairs = [(distinct_genotype(srng), distinct_genotype(srng)) for _ in range(rounds + 1)]
    stimes = interleaved(scale_runners, spairs)
    del scale_runners, X, y
    scale_rows = []
    for f in factors:
        mem = measure_memory(sizes[f], threads, seed, module)
        extra = mem["peak"] - mem["baseline"]
        per_sample = [t / sizes[f] for t in stimes[f]]
        base = [t / sizes[factors[0]] for t in stimes[factors[0]]]
        scale_rows.append((f, sizes[f], max(1, sizes[f] // BATCH),
                           statistics.median(stimes[f]), paired_median(per_sample, base),
                           mem, extra))
    table(
        ["size", "n_samples", "T", "s / generation", "us / sample", "per-sample vs 1x",
         "X.nbytes (MB)", "peak - baseline RSS (MB)", "extra / X.nbytes"],
        [
            (f"{f}x", n, steps, f"{t:.3f}", f"{1e6 * t / n:.1f}", f"{rel:.2f}",
             f"{m['nbytes'] / 1e6:.0f}", f"{extra / 1e6:.0f}",
             f"{extra / m['nbytes']:.2f}")
            for f, n, steps, t, rel, m, extra in scale_rows
        ],
    )
    return scale_rows


def unfused_conv_modules(modules):
    """``modules`` with the fusion off: convolution at full resolution, then ``avg_pool2d``."""
    from skpathnet.engine import ConvModules

    class UnfusedConvModules(ConvModules):
        def apply(self, h, params):
            z = F.conv2d(h, params.weight, params.bias, padding=self.kernel_size // 2)
            return z if min(z.shape[-2:]) < 2 else F.avg_pool2d(z, 2)

        def rows_per_chunk(self, h, n_maps):  # chunks of the full-resolution conv output
            per_row = n_maps * self.n_channels * h.shape[-2] * h.shape[-1] * h.element_size()
            return max(1, self.chunk_bytes // per_row)

    return UnfusedConvModules(modules.input_shape, modules.n_channels, modules.kernel_size,
                              modules.global_pooling)


def conv_part(X, y, n_classes, T, seed, quick):
    """Part 1b: convolutional modules, ours vs one nn.Conv2d per module."""
    from skpathnet.engine import ConvModules

    modules = ConvModules((3, 64, 64), 8, 3)
    steps = 3 if quick else 8
    rounds = 2 if quick else 4
    rng = np.random.RandomState(seed + 2)
    pairs = [(distinct_genotype(rng), distinct_genotype(rng)) for _ in range(rounds + 1)]
    diff = check_same_conv_model(X, y, n_classes, pairs[0][0], seed, modules)
    runners = {
        "ours": EngineRunner(X, y, n_classes, steps, seed, modules=modules),
        "unfused": EngineRunner(X, y, n_classes, steps, seed,
                                modules=unfused_conv_modules(modules)),
        "parallel": type("P", (ParallelRunner,), {})(X, y, n_classes, steps, seed,
                                                      modules=modules),
        "naive": NaiveConvRunner(X, y, n_classes, steps, seed, modules),
    }
    times = interleaved(runners, pairs)
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"## 1b. Convolutional modules on the same EMO-DB segments as images "
          f"(3 x 64 x 64; 3 x 3 kernels, 8 channels per module, N = {N_ACTIVE} modules, "
          f"{N_LAYERS} layers of conv -> 2 x 2 average pooling -> ReLU, the last 8 x 8 maps "
          f"flattened into the head)\n")
    print(f"{steps} steps per pathway per round (a full generation has T = {T}); "
          f"{rounds} timed rounds after a warm-up, interleaved; engine vs naive logits at "
          f"init, max |diff| {diff:.1e}.\n")
    labels = {"ours": "ours: one stride-2 conv2d per layer on the gathered pooled kernels, "
                      "autograd",
              "unfused": "ours, fusion off: one conv2d per layer, then avg_pool2d",
              "parallel": 'ours, tournament="parallel"',
              "naive": "naive: nn.Conv2d/module + loop + DataLoader + optim.SGD"}
    table(["implementation", "ms / step", f"projected s / generation (2 x {T} steps)",
           "projected min / 200-generation fold", "naive / this (paired median)"],
          [(labels[k], f"{1e3 * med[k] / (2 * steps):.1f}",
            f"{med[k] / steps * T:.2f}", f"{200 * med[k] / steps * T / 60:.1f}",
            f"{paired_median(times['naive'], times[k]):.2f}") for k in labels])
    ratio = paired_median(times["naive"], times["ours"])
    fusion = paired_median(times["unfused"], times["ours"])
    print(f"**Engine v2, conv: ours vs naive {ratio:.2f}x** (target >= 3x: "
          f"{'met' if ratio >= 3 else 'MISSED'}); with the fusion of convolution and pooling "
          f"off {paired_median(times['naive'], times['unfused']):.2f}x; the fusion alone "
          f"{fusion:.2f}x.\n")
    factors = (1, 2) if quick else (1, 2, 4)
    print(f"## 1c. Conv modules: scaling with the number of training samples "
          f"(synthetic, base = {len(X)})\n")
    rows = scaling_part(len(X), factors, 1 if quick else 2, seed, torch.get_num_threads(),
                        modules)
    extra = ", ".join(f"{r[6] / r[5]['nbytes']:.2f}" for r in rows)
    print(f"Time per sample at {factors[-1]}x / at 1x = {rows[-1][4]:.2f} (paired median; "
          f"linear cost: ~1); peak memory of a one-generation fit above the baseline: "
          f"{extra} x X.nbytes.\n")


# --------------------------------------------------------------------------- main
def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short smoke run (~1 min)")
    parser.add_argument("--threads", type=int, default=2, help="torch intra-op threads")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only", choices=["conv"], default=None,
                        help="run one part only (conv: parts 1b and 1c, convolutional modules)")
    parser.add_argument("--memory-child", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--memory-module", default="linear", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.memory_child is not None:
        memory_child(args.memory_child, args.threads, args.seed, args.memory_module)
        return

    from sklearn.preprocessing import StandardScaler

    from skpathnet.datasets import load_emodb
    from skpathnet.utils import flatten_clips

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    quick = args.quick
    n_clips = 60 if quick else None
    rounds = 3 if quick else 9
    scale_rounds = 2 if quick else 5
    gemm_repeat = 20 if quick else 100

    t_start = time.perf_counter()
    print("# PathNet engine benchmark" + (" (--quick)" if quick else ""))
    print()
    print(
        f"- date: {datetime.datetime.now().isoformat(timespec='seconds')}\n"
        f"- machine: nproc={os.cpu_count()}, CPU {cpu_model()!r}, "
        f"{platform.python_implementation()} {platform.python_version()}\n"
        f"- torch {torch.__version__}, torch.get_num_threads()={torch.get_num_threads()}\n"
        f"- load average at start: {load_avg()}\n"
    )

    # ---- 0. features ---------------------------------------------------------
    data = load_emodb()
    files = list(data.filenames if n_clips is None else data.filenames[:n_clips])
    labels = np.asarray(data.target if n_clips is None else data.target[:n_clips])
    if args.only:
        from skpathnet.transformers import LogMelSegmenter

        rows, clips = [], LogMelSegmenter(n_jobs=2).transform(files)
    else:
        rows, clips = feature_throughput(files, [1, 2])
    if rows:
        print(f"## Feature extraction: LogMelSegmenter on EMO-DB ({len(files)} clips)\n")
        table(
            ["n_jobs", "cache", "seconds", "clips/s"],
            [(j, mode, f"{s:.2f}", f"{len(files) / s:.1f}") for j, mode, s in rows],
        )
        by = {(j, mode): sec for j, mode, sec in rows}
        feat_speedup = by[(1, "none")] / by[(2, "none")]
        print(f"n_jobs=2 vs 1 without cache: {feat_speedup:.2f}x (scales with n_jobs: "
              f"{'met' if feat_speedup >= 1.2 else 'MISSED'}, threshold 1.2x on "
              f"{os.cpu_count()} cores).\n")
    segments, clip_index = flatten_clips(clips)
    classes, y_enc = np.unique(labels, return_inverse=True)
    segments = StandardScaler(copy=False).fit_transform(segments)
    X_real = torch.from_numpy(np.ascontiguousarray(segments, dtype=np.float32))
    y_real = torch.from_numpy(y_enc[clip_index].astype(np.int64))
    n_real, n_classes = len(X_real), len(classes)
    T = max(1, n_real // BATCH)
    if args.only == "conv":
        conv_part(X_real, y_real, n_classes, T, args.seed, quick)
        return

    # ---- 1. engine vs naive, 2. GEMM bound (interleaved rounds) -------------
    rng = np.random.RandomState(args.seed)
    pairs = [(distinct_genotype(rng), distinct_genotype(rng)) for _ in range(rounds + 1)]
    diff_init, diff_step, diff_timed = check_same_model(
        X_real, y_real, n_classes, pairs[0][0], args.seed
    )
    runners = {
        "ours": EngineRunner(X_real, y_real, n_classes, T, args.seed),
        "direct": EngineRunner(X_real, y_real, n_classes, T, args.seed, first_layer="direct"),
        "evolve": EvolveRunner(X_real, y_real, n_classes, T, args.seed),
        "parallel": ParallelRunner(X_real, y_real, n_classes, T, args.seed),
        "related": RelatedPairRunner(X_real, y_real, n_classes, T, args.seed),
        "naive": NaiveRunner(X_real, y_real, n_classes, T, args.seed),
        "gemm": GemmRunner(T, args.seed),
    }
    setup_s = runners["ours"].setup_s
    ours_mode = runners["ours"].first_layer
    times = interleaved(runners, pairs)
    del runners
    med = {name: statistics.median(ts) for name, ts in times.items()}
    speedup = paired_median(times["naive"], times["ours"])
    print(
        f"## 1. One generation on EMO-DB segments ({n_real} x {N_FEATURES}, "
        f"{n_classes} classes, T = {T} steps x 2 pathways, batch {BATCH})\n"
    )
    print(
        f"Engine vs naive logits, max |diff|: {diff_init:.2e} at init, "
        f"{diff_step:.2e} after one SGD step on the same batch (same model, same "
        f"update); linear_sgd_step under part 4's probe vs without: {diff_timed:.1e}. "
        f"{rounds} timed rounds after a warm-up round; each round runs one generation "
        f"of every row (order rotating), so ratios are paired per round.\n"
    )
    labels_ = {
        "ours": f'ours (first_layer="auto" = {ours_mode}): train_pathways x 2',
        "direct": 'ours, first_layer="direct": train_pathways x 2',
        "evolve": 'ours: evolve(n_generations=1), direct (random genotypes)',
        "parallel": f'ours ({ours_mode}), tournament="parallel": both pathways side by side',
        "related": f'ours ({ours_mode}), tournament="parallel", pair (a, mutate(a))',
        "naive": "naive: nn.Linear/module + DataLoader + optim.SGD",
        "gemm": "GEMM only: 2T x (layer-1 forward + weight grad)",
    }
    table(
        ["implementation", "s / generation (median)", "min", "max", "ms / step",
         "naive / this (paired median)"],
        [
            (labels_[name], f"{med[name]:.3f}", f"{min(times[name]):.3f}",
             f"{max(times[name]):.3f}", f"{1e3 * med[name] / (2 * T):.2f}",
             f"{paired_median(times['naive'], times[name]):.2f}")
            for name in ("ours", "direct", "evolve", "parallel", "related", "naive", "gemm")
        ],
    )
    direct_speedup = paired_median(times["naive"], times["direct"])
    rs_gain = paired_median(times["direct"], times["ours"])
    per_fold = 200 * med["ours"] + setup_s
    print(
        f"Row-space setup (Gram matrix X X^T and offsets X W_0, once per fit): "
        f"{setup_s:.2f} s = {setup_s / med['ours']:.1f} generations; over a 200-generation "
        f"fit: {per_fold:.0f} s vs {200 * med['direct']:.0f} s direct "
        f"({200 * med['direct'] / per_fold:.2f}x), {200 * med['naive']:.0f} s naive "
        f"({200 * med['naive'] / per_fold:.2f}x).\n"
    )
    print(f"**Engine v2, linear: ours vs naive {speedup:.2f}x per generation** (target >= 5x: "
          f"{'met' if speedup >= 5 else 'MISSED'}); with the row-space reduction off "
          f"(first_layer=\"direct\") {direct_speedup:.2f}x; the row-space reduction alone "
          f"{rs_gain:.2f}x.\n")
    par_speedup = paired_median(times["naive"], times["parallel"])
    rel_speedup = paired_median(times["naive"], times["related"])
    overlap = pair_overlap(runs=50 if quick else 200, seed=args.seed)
    quarters = [overlap[i:i + 50].mean() for i in range(0, 200, 50)]
    print(
        f'tournament="parallel" vs naive: {par_speedup:.2f}x on random pairs '
        f"(union of {N_ACTIVE}+{N_ACTIVE} random modules), {rel_speedup:.2f}x on a "
        f"winner and its mutant. Distinct layer-1 modules of the tournament pair in a "
        f"neutral-drift simulation of 200 generations (population 20), mean per "
        f"50-generation quarter: " + ", ".join(f"{q:.2f}" for q in quarters)
        + f" (8 = disjoint, {N_ACTIVE} = identical).\n"
    )
    print(f"**Speed-up ours vs naive: {speedup:.2f}x** (target >= 5x: "
          f"{'met' if speedup >= 5 else 'MISSED'}). An engine at the GEMM bound "
          f"would be {paired_median(times['naive'], times['gemm']):.2f}x faster than "
          f"the naive reference.\n")

    conv_part(X_real, y_real, n_classes, T, args.seed, quick)

    gemm = gemm_throughput(gemm_repeat)
    flops_step = 2 * FLOP_L1
    achieved = 2 * T * flops_step / med["direct"]
    frac = paired_median(times["gemm"], times["direct"])
    print("## 2. float32 GEMM throughput and the engine's share of it\n")
    table(
        ["GEMM (stand-alone, median of repeats)", "ms", "GFLOP/s"],
        [
            (f"forward ({BATCH} x {N_FEATURES}) @ ({N_FEATURES} x 80)",
             f"{1e3 * gemm['fwd_s']:.3f}", f"{gemm['fwd_flops'] / 1e9:.1f}"),
            (f"weight grad ({N_FEATURES} x {BATCH}, transposed view) @ ({BATCH} x 80)",
             f"{1e3 * gemm['wgrad_s']:.3f}", f"{gemm['wgrad_flops'] / 1e9:.1f}"),
            ("fused update W.addmm_(x.T, dz, alpha=-lr) (the engine's)",
             f"{1e3 * gemm['fused_s']:.3f}", f"{FLOP_L1 / gemm['fused_s'] / 1e9:.1f}"),
            ("(alt. layout) forward x @ W.T, W (80 x 12288)",
             f"{1e3 * gemm['fwd_t_s']:.3f}", f"{FLOP_L1 / gemm['fwd_t_s'] / 1e9:.1f}"),
            ("(alt. layout) weight grad dz.T @ x -> (80 x 12288)",
             f"{1e3 * gemm['wgrad_t_s']:.3f}", f"{FLOP_L1 / gemm['wgrad_t_s'] / 1e9:.1f}"),
            ("layer-1 pair (forward + weight grad)",
             f"{1e3 * (gemm['fwd_s'] + gemm['wgrad_s']):.3f}",
             f"{gemm['l1_flops'] / 1e9:.1f}"),
            ("layer-1 pair, in the rounds of part 1",
             f"{1e3 * med['gemm'] / (2 * T):.3f}",
             f"{2 * T * flops_step / med['gemm'] / 1e9:.1f}"),
            (f"square {gemm['square_n']}^3", f"{1e3 * gemm['square_s']:.1f}",
             f"{gemm['square_flops'] / 1e9:.1f}"),
        ],
    )
    widths = gemm_widths(gemm_repeat)
    print("Layer-1 step (forward `addmm` + fused `addmm_` update, batch 64) by width "
          "(modules x 20 units), interleaved, median:\n")
    table(["width", "modules", "ms / step", "ms per module", "GFLOP/s"],
          [(n, n // N_UNITS, f"{ms:.3f}", f"{ms / (n // N_UNITS):.3f}",
            f"{2 * 2 * BATCH * N_FEATURES * n / ms / 1e6:.1f}")
           for n, ms in widths.items()])
    print(
        f"Counted FLOPs per step and pathway: layer 1 forward 2*64*12288*80 + weight "
        f"gradient 2*64*12288*80 = {flops_step / 1e6:.1f} MFLOP (layers 2-3 and head, "
        f"not counted: {small_layer_flops(n_classes) / 1e6:.2f} MFLOP).\n"
        f"Engine (direct first layer): {2 * T} steps x {flops_step / 1e6:.1f} MFLOP in "
        f"{med['direct']:.3f} s "
        f"(median) = {achieved / 1e9:.1f} GFLOP/s; "
        f"**{100 * frac:.0f} % of the layer-1 GEMM throughput** (paired median of "
        f"GEMM-only time / engine time over the rounds; "
        f"{100 * achieved / gemm['l1_flops']:.0f} % of the stand-alone figure, "
        f"{100 * achieved / gemm['square_flops']:.0f} % of the square GEMM). "
        f"(target >= 50 %: {'met' if frac >= 0.5 else 'MISSED'})\n"
    )

    # ---- 2b. whole evolutions, serial vs parallel tournaments ---------------------
    n_gen = 5 if quick else 40
    print(f"## 2b. {n_gen} generations of evolution, population 20, serial vs parallel "
          f"tournaments (EMO-DB segments, same seed)\n")
    evo_rows = []
    for mode in ("serial", "parallel"):
        seconds, fitness, union = evolution_run(X_real, y_real, n_classes, T, n_gen, mode,
                                                args.seed)
        evo_rows.append((mode, seconds, fitness, union))
    table(
        ["tournament", "s / generation", "speed-up vs serial", "winner fitness, last 10 gens",
         "mean layer-1 union of the pair"],
        [(mode, f"{sec / n_gen:.3f}", f"{evo_rows[0][1] / sec:.2f}", f"{fit:.3f}",
          f"{uni:.2f}") for mode, sec, fit, uni in evo_rows],
    )

    # ---- 3. scaling ------------------------------------------------------------------
    print(f"## 3. Scaling with the number of training samples (synthetic, base = {n_real})\n")
    scale_rows = scaling_part(n_real, (1, 2, 4, 8), scale_rounds, args.seed, args.threads)
    # Slope between the two largest sizes: below ~2048 samples the
    # standardiser's fixed-size float64 chunks dominate (a constant).
    first, last = scale_rows[-2], scale_rows[-1]
    slope = (last[6] - first[6]) / (last[5]["nbytes"] - first[5]["nbytes"])
    intercept = last[6] - slope * last[5]["nbytes"]
    linear = last[4]
    fit_times = ", ".join(f"{r[5]['fit_s']:.1f}" for r in scale_rows)
    print(
        f"Time per sample at 8x / at 1x = {linear:.2f} (paired median over "
        f"{scale_rounds} interleaved rounds; linear cost: ~1; target: "
        f"{'met' if linear <= 1.15 else 'MISSED'} at 15 % tolerance). "
        f"Extra memory = {slope:.2f} x X.nbytes + {intercept / 1e6:.0f} MB "
        f"(line through 4x and 8x; target slope <= 2, 1 % tolerance: "
        f"{'met' if slope <= 2.02 else 'MISSED'}). "
        f"Baseline = VmRSS after imports and X creation "
        f"({', '.join(str(round(r[5]['baseline'] / 1e6)) for r in scale_rows)} MB); "
        f"peak = {scale_rows[0][5]['peak_source']} (ru_maxrss after fit: "
        f"{', '.join(str(round(r[5]['maxrss'] / 1e6)) for r in scale_rows)} MB, and "
        f"already {', '.join(str(round(r[5]['maxrss_before'] / 1e6)) for r in scale_rows)}"
        f" MB before fit: a subprocess inherits the parent's high-water mark at exec); "
        f"fit wall time {fit_times} s.\n"
    )

    # ---- 4. profile --------------------------------------------------------------------
    prof_pairs = pairs[: (3 if quick else 6)]
    parts, total, gemm_gen, faults = profile_generation(
        X_real, y_real, n_classes, prof_pairs, T, args.seed
    )
    share_fwd = gemm["fwd_s"] / (gemm["fwd_s"] + gemm["wgrad_s"])
    ideal = {"forward: layer-1 addmm": share_fwd * gemm_gen,
             "update: layer-1 fused addmm_": (1 - share_fwd) * gemm_gen}
    print(f"## 4. Where one generation's time goes (EMO-DB, T = {T}, ms / generation, "
          f"mean of {len(prof_pairs) - 1} generations)\n")
    rows = []
    for key, value in parts.items():
        bound = f"{1e3 * ideal[key]:.1f}" if key in ideal else ""
        rows.append((key, f"{1e3 * value:.1f}", f"{100 * value / total:.1f}",
                     f"{1e3 * value / (2 * T):.3f}", bound))
    other = total - sum(parts.values())
    rows.append(("timers / loop overhead", f"{1e3 * other:.1f}",
                 f"{100 * other / total:.1f}", f"{1e3 * other / (2 * T):.3f}", ""))
    rows.append(("total", f"{1e3 * total:.1f}", "100.0", f"{1e3 * total / (2 * T):.3f}",
                 f"{1e3 * gemm_gen:.1f}"))
    table(["part", "ms", "%", "ms / step", "GEMM-only ms"], rows)
    print(
        "Measured on the engine's own train_pathways (direct first layer) under "
        "skpathnet.engine.step_probe, which marks the end of each phase of the step loop "
        "(same operations, bit-identical result); each row is the time since the previous "
        "mark. 'forward: rest + loss gradient' = "
        "relu, view-sum, /k, layers 2-3, head, argmax count, softmax - one-hot; "
        "'backward: rest' = head and layers 3-2 (input gradients and their fused "
        "addmm_ updates), bias updates, the layer-1 dz (repeat, ReLU mask). "
        "GEMM-only ms: a GemmRunner generation (bare torch.mm, out=) run after each "
        "profiled one, split between forward and weight gradient in the stand-alone "
        "proportion.\n"
    )
    print(f"Minor page faults: {faults / (2 * T):.0f} per step "
          f"({faults * 4096 / (2 * T) / 1e6:.1f} MB of fresh pages per step, at 4 KiB).\n")
    if not quick:
        print("torch.profiler, one pathway (T steps), top operators by self CPU time:\n")
        print("```")
        print(torch_profile(X_real, y_real, n_classes, pairs[0][0], T, args.seed))
        print("```\n")
    print(f"Load average at end: {load_avg()}; total benchmark time "
          f"{time.perf_counter() - t_start:.0f} s.")


if __name__ == "__main__":
    main()
