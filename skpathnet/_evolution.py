"""Evolution of PathNet pathways: genotypes, mutation, binary tournaments.

The genetic algorithm of Fernando et al. [1]_ (Sec. 2) with the settings of
Nguyen et al. [2]_ (Sec. 3.3, "PathNet Settings"): a population of random
genotypes; each generation two of them, drawn at random, are trained in turn
(or side by side, ``tournament="parallel"``) for ``T`` steps; the one with
the lower fitness is overwritten by the winner and mutated.
"""

import numpy as np
from tqdm.auto import tqdm

from ._parallel import train_pathways_parallel
from ._pathnet import train_pathway

__all__ = ["random_genotype", "mutate", "evolve"]


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


def evolve(
    network,
    head,
    X,
    y,
    *,
    n_layers,
    n_active,
    n_modules,
    population_size,
    n_generations,
    n_steps,
    batch_size,
    learning_rate,
    mutation_rate,
    mutation_shift,
    rng,
    generator,
    frozen_cache=None,
    tournament="serial",
    on_generation=None,
    task=0,
    verbose=False,
):
    """Evolve pathways by binary tournaments; return the best one.

    Parameters
    ----------
    network : PathNetwork
        Trained in place.
    head : TaskHead
        The task's final layer, shared by the population, trained in place.
    X : torch.Tensor of shape (n_samples, n_features)
    y : torch.Tensor of shape (n_samples,), int64
    tournament : {"serial", "parallel"}, default="serial"
        "serial": the two pathways are trained one after the other, the
        second starting from the modules the first has updated (Nguyen et
        al. 2020, Sec. 3.3). "parallel": both are trained side by side on
        the same mini-batches (:func:`~skpathnet._parallel.train_pathways_parallel`).
    on_generation : callable, default=None
        Called as ``on_generation(record)`` after each tournament; may add
        keys to ``record``.
    task : int, default=0
        Task index written into each history record.
    verbose : bool, default=False
        Show a tqdm progress bar over generations.

    Returns
    -------
    best : ndarray of shape (n_layers, n_active), int64
        The population member with the highest last measured fitness (ties:
        the lowest index); every member trained at least once if
        ``n_generations * 2 >= population_size``.
    best_fitness : float
    history : list of dict
        One record per generation: ``task``, ``generation``, ``genotypes``
        (tuple of two (n_layers, n_active) arrays), ``indices`` (their
        population slots), ``fitness`` (tuple of two floats) and ``winner``
        (0 or 1).
    """
    population = [
        random_genotype(n_layers, n_active, n_modules, rng) for _ in range(population_size)
    ]
    fitness = np.full(population_size, -np.inf)
    history = []
    train = dict(
        n_steps=n_steps, batch_size=batch_size, learning_rate=learning_rate,
        generator=generator, frozen_cache=frozen_cache,
    )
    for generation in tqdm(
        range(n_generations), disable=not verbose, desc=f"task {task}", unit="gen"
    ):
        a, b = rng.choice(population_size, size=2, replace=False)
        if tournament == "parallel":
            scores = train_pathways_parallel(
                network, [population[a], population[b]], head, X, y, **train
            )
        else:
            scores = [train_pathway(network, population[s], head, X, y, **train) for s in (a, b)]
        fitness[[a, b]] = scores
        winner = 0 if scores[0] >= scores[1] else 1
        win_slot, lose_slot = (a, b) if winner == 0 else (b, a)
        record = {
            "task": task,
            "generation": generation,
            "genotypes": (population[a].copy(), population[b].copy()),
            "indices": (int(a), int(b)),
            "fitness": (scores[0], scores[1]),
            "winner": winner,
        }
        population[lose_slot] = mutate(
            population[win_slot], n_modules, rng, rate=mutation_rate, max_shift=mutation_shift
        )
        fitness[lose_slot] = -np.inf
        if on_generation is not None:
            on_generation(record)
        history.append(record)
    best_slot = int(np.argmax(fitness))
    if not np.isfinite(fitness[best_slot]):
        # No generation ran: nothing was trained, keep the first genotype.
        best_slot = 0
    return population[best_slot].copy(), float(fitness[best_slot]), history
