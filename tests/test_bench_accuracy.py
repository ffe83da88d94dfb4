"""benchmarks/bench_accuracy.py: the small-corpus folds (--train-groups)."""

import pytest

from conftest import load_benchmark


@pytest.fixture(scope="module")
def bench():
    return load_benchmark("bench_accuracy")


def test_the_small_corpus_folds_are_the_packages(bench):
    """--train-groups uses skpathnet.model_selection.FewTrainingGroups (tested there)."""
    from skpathnet.model_selection import FewTrainingGroups

    assert bench.FewTrainingGroups is FewTrainingGroups


def test_search_compare_pairs_two_saved_entries_fold_by_fold(bench, tmp_path, monkeypatch, capsys):
    """--search-compare: entry 23 after transfer from two corpora minus entry 23 from scratch."""
    monkeypatch.setattr(bench, "OUT", tmp_path)

    def saved(source, scores):
        args = bench.argparse.Namespace(search_source=source, search_train_groups=2,
                                        search_features="functionals", generations=40, seed=0)
        path = bench.search_file(args, 23)
        assert path == tmp_path / "search" / (f"functionals-{source or 'scratch'}-train2-g40-"
                                              "seed0-23.json")
        path.parent.mkdir(exist_ok=True)
        folds = [{"fold": k, "clip_WAR": s, "clip_UAR": s} for k, s in enumerate(scores)]
        path.write_text(bench.json.dumps({"folds": folds, "clip": {
            "WAR": sum(scores) / len(scores), "UAR": sum(scores) / len(scores)}}))

    saved("emovo+emodb", [0.5, 0.6, 0.7, 0.8, 0.9, 0.6])
    saved(None, [0.4, 0.5, 0.6, 0.7, 0.8, 0.6])
    assert bench.main(["--search-compare", "23", "23@", "--search-source", "emovo+emodb",
                       "--search-train-groups", "2", "--search-features", "functionals",
                       "--generations", "40"]) == 0
    out = capsys.readouterr().out
    assert "clip_WAR: 23 0.683 - 23@ 0.600: +0.083 ± 0.037 (5 / 1 / 0, p = 0.062)" in out
