"""Evolution of PathNet pathways: genotypes, mutation, binary tournaments.

The genetic algorithm of Fernando et al. [1]_ (Sec. 2) with the settings of
Nguyen et al. [2]_ (Sec. 3.3, "PathNet Settings"): a population of random
genotypes; each generation two of them, drawn at random, are trained in turn
(or side by side, ``tournament="parallel"``) for ``T`` steps; the one with
the lower fitness is overwritten by the winner and mutated.

References
----------
.. [1] C. Fernando et al., "PathNet: Evolution Channels Gradient Descent in
   Super Neural Networks", arXiv:1701.08734, 2017.
.. [2] D. Nguyen et al., "Meta Transfer Learning for Emotion Recognition",
   arXiv:2006.13211, 2020.
"""

from dataclasses import dataclass, replace
from typing import Optional

import numpy as np
from tqdm.auto import tqdm

from ._sgd import TrainSettings, train_pathways

__all__ = ["EvolutionSettings", "evolve", "mutate", "random_genotype"]


@dataclass(frozen=True)
class EvolutionSettings:
    """Settings of one task's evolution.

    Parameters
    ----------
    train : TrainSettings
        How each tournament's pathways are trained.
    n_active : int, default=4
        ``N``, genes per layer (Nguyen et al. 2020, Sec. 3.3: 4).
    population_size : int, default=20
        (ibid.: 20).
    n_generations : int, default=200
        Binary tournaments per task (ibid.: 200).
    mutation_rate : float or None, default=None
        Per-gene mutation probability; None: ``1 / (n_layers * n_active)``
        (Fernando et al. 2017, Sec. 2).
    mutation_shift : int, default=2
        Maximum shift of a mutating gene (Fernando et al. 2017, Sec. 2: 2).
    tournament : {"serial", "parallel"}, default="serial"
        "serial": the two pathways are trained one after the other, the
        second starting from the modules the first has updated (Nguyen et
        al. 2020, Sec. 3.3). "parallel": both side by side on the same
        mini-batches (:func:`~._sgd.train_pathways` with ``P = 2``).
    final_steps : int, default=0
        SGD steps given to the best pathway alone after the last tournament,
        so that the shared modules and the task's final layer (trained by
        every pathway in turn) end fitted to the pathway that is kept. 0: no
        extra training, as in both papers.
    """

    train: TrainSettings
    n_active: int = 4
    population_size: int = 20
    n_generations: int = 200
    mutation_rate: Optional[float] = None
    mutation_shift: int = 2
    tournament: str = "serial"
    final_steps: int = 0


def random_genotype(n_layers, n_active, n_modules, rng):
    """Draw a genotype uniformly at random.

    Returns
    -------
    genotype : ndarray of shape (n_layers, n_active), int64
        Each gene is a module index in ``[0, n_modules - 1]``.
    """
    return rng.randint(0, n_modules, size=(n_layers, n_active)).astype(np.int64)


def mutate(genotype, n_modules, rng, *, rate=None, max_shift=2):
    """Return a mutated copy of ``genotype``.

    Each gene mutates independently with probability ``rate`` (default
    ``1 / (n_layers * n_active)``, Fernando et al. 2017, Sec. 2) by adding an
    integer drawn uniformly from ``[-max_shift, max_shift]`` (default 2).
    Values that leave ``[0, n_modules - 1]`` wrap around modulo
    ``n_modules``, so module ``M - 1`` neighbours module ``0`` and every gene
    stays a valid module index.

    Parameters
    ----------
    genotype : ndarray of shape (n_layers, n_active), int
    n_modules : int
    rng : numpy.random.RandomState
    rate : float, default=None
    max_shift : int, default=2

    Returns
    -------
    mutated : ndarray of shape (n_layers, n_active), int64
    """
    genotype = np.asarray(genotype, dtype=np.int64)
    if rate is None:
        rate = 1.0 / genotype.size
    mask = rng.random_sample(genotype.shape) < rate
    shift = rng.randint(-max_shift, max_shift + 1, size=genotype.shape)
    return np.where(mask, genotype + shift, genotype) % n_modules


def evolve(network, head, inputs, y, settings, *, rng, generator, on_generation=None,
           task=0, verbose=False, train=None, final_train=None, tie_break=None, initial=()):
    """Evolve pathways by binary tournaments; return the best one.

    Parameters
    ----------
    network : PathNetwork
        Trained in place. If it is in row-space mode
        (:meth:`~._network.PathNetwork.bind`), it is materialised at the end.
    head : TaskHead
        The task's final layer, shared by the population, trained in place.
    inputs : Inputs
        The training rows, from :meth:`~._network.PathNetwork.bind`.
    y : torch.Tensor of shape (n_samples,), int64
    settings : EvolutionSettings
    rng : numpy.random.RandomState
        Draws genotypes, tournaments and mutations.
    generator : torch.Generator
        Mini-batch shuffles, on the device of ``inputs``.
    on_generation : callable, default=None
        Called as ``on_generation(record)`` after each tournament; may add
        keys to ``record``.
    task : int, default=0
        Task index written into each history record.
    verbose : bool, default=False
        Show a tqdm progress bar over generations.
    train : callable, default=None
        ``train(network, genotypes, head, inputs, y, settings.train,
        generator) -> list of float`` (one fitness per genotype), e.g.
        :func:`~._multitask.train_multitask` with ``head`` and ``y`` its
        heads and targets; default :func:`~._sgd.train_pathways`.
    final_train : callable, default=None
        Same signature; trains the best pathway for ``settings.final_steps``
        steps after the last tournament (e.g. :func:`~._sgd.train_pathways` on
        every row when ``train`` holds some out). Default: ``train``.
    tie_break : callable, default=None
        ``tie_break(network, genotypes, head, inputs, y) -> list of float``,
        called after both pathways of a tournament are trained when their
        fitnesses are equal; the lower value wins (e.g.
        :func:`~._sgd.training_loss`) and the record gets ``tie_break``
        (the two values). None: the first pathway drawn wins a tie (the
        ``>=`` of the papers' "greater fitness").
    initial : sequence of ndarray of shape (n_layers, n_active), default=()
        Genotypes placed in the first population slots instead of random
        ones (e.g. a source task's best pathway); the random draws are made
        all the same, so the rest of the run uses the same random numbers.

    Returns
    -------
    best : ndarray of shape (n_layers, n_active), int64
        The population member with the highest last measured fitness (ties:
        the lowest index); with ``settings.final_steps``, trained alone for
        that many more steps (its fitness stays the tournament's).
    best_fitness : float
    history : list of dict
        One record per generation: ``task``, ``generation``, ``genotypes``
        (tuple of two (n_layers, n_active) arrays), ``indices`` (their
        population slots), ``fitness`` (tuple of two floats) and ``winner``
        (0 or 1).
    """
    s = settings
    train = train_pathways if train is None else train
    n_layers, n_modules = network.n_layers, network.n_modules
    population = [
        random_genotype(n_layers, s.n_active, n_modules, rng) for _ in range(s.population_size)
    ]
    if len(initial) > s.population_size:
        raise ValueError(f"{len(initial)} initial genotypes for a population of "
                         f"{s.population_size}.")
    for slot, genotype in enumerate(initial):
        genotype = np.asarray(genotype, dtype=np.int64)
        if genotype.shape != population[slot].shape:
            raise ValueError(f"an initial genotype has shape {genotype.shape}, the population's "
                             f"{population[slot].shape} (n_layers, n_active).")
        population[slot] = genotype.copy()
    fitness = np.full(s.population_size, -np.inf)
    history = []
    for generation in tqdm(
        range(s.n_generations), disable=not verbose, desc=f"task {task}", unit="gen"
    ):
        a, b = rng.choice(s.population_size, size=2, replace=False)
        if s.tournament == "parallel":
            scores = train(
                network, [population[a], population[b]], head, inputs, y, s.train, generator
            )
        else:
            scores = [
                train(network, [population[slot]], head, inputs, y, s.train, generator)[0]
                for slot in (a, b)
            ]
        fitness[[a, b]] = scores
        winner = 0 if scores[0] >= scores[1] else 1
        tie = None
        if tie_break is not None and scores[0] == scores[1]:
            tie = tie_break(network, [population[a], population[b]], head, inputs, y)
            winner = 0 if tie[0] <= tie[1] else 1
        win_slot, lose_slot = (a, b) if winner == 0 else (b, a)
        record = {
            "task": task,
            "generation": generation,
            "genotypes": (population[a].copy(), population[b].copy()),
            "indices": (int(a), int(b)),
            "fitness": (scores[0], scores[1]),
            "winner": winner,
        }
        if tie is not None:
            record["tie_break"] = (tie[0], tie[1])
        population[lose_slot] = mutate(
            population[win_slot], n_modules, rng, rate=s.mutation_rate,
            max_shift=s.mutation_shift,
        )
        fitness[lose_slot] = -np.inf
        if on_generation is not None:
            on_generation(record)
        history.append(record)
    best_slot = int(np.argmax(fitness))
    if not np.isfinite(fitness[best_slot]):
        # No generation ran: nothing was trained, keep the first genotype.
        best_slot = 0
    elif s.final_steps:
        last = train if final_train is None else final_train
        last(network, [population[best_slot]], head, inputs, y,
             replace(s.train, n_steps=s.final_steps), generator)
    network.materialize()
    return population[best_slot].copy(), float(fitness[best_slot]), history
