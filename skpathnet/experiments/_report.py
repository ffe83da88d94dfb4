"""Markdown and JSON reports of transfer experiments."""

import json
from pathlib import Path
from typing import NamedTuple

import numpy as np
from scipy.stats import wilcoxon

__all__ = ["PairedDifference", "fold_mean_std", "format_markdown", "paired_difference",
           "save_results", "write_json"]


def fold_mean_std(folds, key):
    """Mean and standard deviation over folds of one per-fold score.

    Parameters
    ----------
    folds : list of dict
        The ``folds`` records of :func:`~skpathnet.experiments.evaluate`.
    key : str
        A per-fold score, e.g. ``"clip_WAR"``.

    Returns
    -------
    mean, std : float
    """
    values = np.array([f[key] for f in folds], dtype=float)
    return float(values.mean()), float(values.std())


class PairedDifference(NamedTuple):
    """One method minus another over the same folds (:func:`paired_difference`)."""

    mean: float  #: mean over folds of the per-fold difference
    std: float  #: its standard deviation over folds (population, as fold_mean_std)
    wins: int  #: folds where the first method scores higher
    ties: int  #: folds where both score the same
    losses: int  #: folds where it scores lower
    p_value: float  #: two-sided Wilcoxon signed-rank test; nan when every fold ties


def paired_difference(folds, baseline_folds, key):
    """Per-fold difference of one score between two methods evaluated on the same folds.

    The spread over folds of each method's score is mostly the spread
    between speakers, which both methods share; the per-fold difference
    removes it, so it is the honest measure of whether one method beats
    another on the same folds (e.g. transfer against scratch).

    Parameters
    ----------
    folds, baseline_folds : list of dict
        The ``folds`` records of :func:`~skpathnet.experiments.evaluate` for
        the method and its baseline; matched by their ``"fold"`` number.
    key : str
        A per-fold score, e.g. ``"clip_WAR"``.

    Returns
    -------
    PairedDifference

    Raises
    ------
    ValueError
        If the two methods were not evaluated on the same folds.
    """
    a = {f["fold"]: f[key] for f in folds}
    b = {f["fold"]: f[key] for f in baseline_folds}
    if set(a) != set(b):
        raise ValueError(
            f"the methods were evaluated on different folds ({sorted(a)} and {sorted(b)}); "
            "compare methods run on the same folds."
        )
    d = np.array([a[k] - b[k] for k in sorted(a)], dtype=float)
    # scores are ratios of clip counts: differences equal up to float rounding are equal
    # (a zero is a tie), so that the test sees ties of |d| whatever the rounding (scipy's
    # exact and approximate tests, chosen by whether |d| has ties, give other p-values)
    d = np.round(d, 10) + 0.0
    nonzero = d[d != 0]
    p_value = float(wilcoxon(nonzero).pvalue) if len(nonzero) else float("nan")
    return PairedDifference(float(d.mean()), float(d.std()), int((d > 0).sum()),
                            int((d == 0).sum()), int((d < 0).sum()), p_value)


def _mean_std(folds, key):
    return "{:.3f} ± {:.3f}".format(*fold_mean_std(folds, key))


def format_markdown(results):
    """Render :func:`~skpathnet.experiments.run_transfer_experiment` results as Markdown tables.

    The first table has one row per method and level (clip, segment) with the
    pooled WAR, UAR and UAP and the mean ± standard deviation of the
    per-fold WAR and UAR; then, with a ``scratch`` method, each other method
    minus scratch on the same folds (:func:`paired_difference`, clip level);
    the last table has the per-class recall.
    """
    sources = " + ".join(results["sources"])
    params = results["params"]
    lines = [
        f"## {sources} -> {results['target']} ({results['modality']}, "
        f"{results['protocol']}, {results['n_folds']} folds, "
        f"{results['n_groups']} speakers/subjects)",
        "",
        f"Features: {results.get('features', 'logmel')}"
        f"{_normalisation(results)}; "
        f"{results['n_clips']} clips, {results['n_segments']} segments; "
        + (f"{params['n_generations']} generations, population {params['population_size']}; "
           if "n_generations" in params else "")
        + f"total {results['seconds']:.0f} s.",
        "",
        "| method | level | WAR | UAR | UAP | WAR per fold | UAR per fold | time (s) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for method, res in results["methods"].items():
        seconds = res["seconds"] + res.get("source_seconds", 0.0)
        for level in ("clip", "segment"):
            rep = res[level]
            lines.append(
                f"| {method} | {level} | {rep['WAR']:.3f} | {rep['UAR']:.3f} | "
                f"{rep['UAP']:.3f} | {_mean_std(res['folds'], level + '_WAR')} | "
                f"{_mean_std(res['folds'], level + '_UAR')} | {seconds:.0f} |"
            )
    lines += _paired_lines(results["methods"])
    labels = None
    for res in results["methods"].values():
        labels = list(res["clip"]["recall"])
    if labels:
        lines += ["", "Per-class recall:", "",
                  "| method | level | " + " | ".join(labels) + " |",
                  "|---|---|" + "---|" * len(labels)]
        for method, res in results["methods"].items():
            for level in ("clip", "segment"):
                rec = res[level]["recall"]
                lines.append(f"| {method} | {level} | "
                             + " | ".join(f"{rec[c]:.3f}" for c in labels) + " |")
    return "\n".join(lines) + "\n"


def save_results(results, out_dir, stem):
    """Write ``<out_dir>/<stem>.json`` and ``<stem>.md``; return both paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    json_path, md_path = out / f"{stem}.json", out / f"{stem}.md"
    write_json(json_path, results)
    md_path.write_text(format_markdown(results))
    return json_path, md_path


def write_json(path, results):
    """Write ``results`` to ``path`` as one line of JSON (NumPy values converted).

    The out-of-fold posteriors make up nearly all of it, and indenting them
    would triple the file; the readable view is the Markdown beside it.
    """
    Path(path).write_text(json.dumps(results, default=_jsonable))


def _jsonable(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return repr(value)


def _normalisation(results):
    """``", speaker-normalised"`` (all corpora), ``"..., <names> only"`` (some) or ``""``."""
    normalised = results.get("normalised")
    if normalised is None:  # results written before speaker_norm="auto"
        return ", speaker-normalised" if results.get("speaker_norm") else ""
    corpora = [*results["sources"], results["target"]]
    if not normalised:
        return ""
    if set(corpora) <= set(normalised):
        return ", speaker-normalised"
    return f", speaker-normalised: {', '.join(normalised)} only"


def _paired_lines(methods):
    """Each method minus ``scratch``, fold by fold (clip WAR and UAR), as Markdown lines."""
    if "scratch" not in methods or len(methods) < 2:
        return []
    lines = ["", "Against scratch on the same folds (clip level; per-fold difference, "
             "folds ahead / level / behind, Wilcoxon signed-rank p):", "",
             "| method | WAR difference | UAR difference | folds (WAR) | p (WAR) |",
             "|---|---|---|---|---|"]
    base = methods["scratch"]["folds"]
    for method, res in methods.items():
        if method == "scratch":
            continue
        war = paired_difference(res["folds"], base, "clip_WAR")
        uar = paired_difference(res["folds"], base, "clip_UAR")
        p = "n/a" if np.isnan(war.p_value) else f"{war.p_value:.2f}"
        lines.append(f"| {method} - scratch | {war.mean:+.3f} ± {war.std:.3f} | "
                     f"{uar.mean:+.3f} ± {uar.std:.3f} | {war.wins} / {war.ties} / "
                     f"{war.losses} | {p} |")
    return lines
