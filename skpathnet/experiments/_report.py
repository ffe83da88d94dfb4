"""Markdown and JSON reports of transfer experiments."""

import json
from pathlib import Path

import numpy as np

__all__ = ["fold_mean_std", "format_markdown", "save_results", "write_json"]


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


def _mean_std(folds, key):
    return "{:.3f} ± {:.3f}".format(*fold_mean_std(folds, key))


def format_markdown(results):
    """Render :func:`~skpathnet.experiments.run_transfer_experiment` results as Markdown tables.

    The first table has one row per method and level (clip, segment) with the
    pooled WAR, UAR and UAP and the mean ± standard deviation of the
    per-fold WAR and UAR; the second has the per-class recall.
    """
    sources = " + ".join(results["sources"])
    params = results["params"]
    lines = [
        f"## {sources} -> {results['target']} ({results['modality']}, "
        f"{results['protocol']}, {results['n_folds']} folds, "
        f"{results['n_groups']} speakers/subjects)",
        "",
        f"Features: {results.get('features', 'logmel')}"
        f"{', speaker-normalised' if results.get('speaker_norm') else ''}; "
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
