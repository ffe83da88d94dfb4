"""Leave-one-corpus-out sources: every other corpus of the target's modality."""

import pytest

from skpathnet import PathNetClassifier
from skpathnet.experiments import Method, other_corpora, resolve_sources, run_transfer_experiment


def test_other_corpora_are_the_same_modality_present_largest_first(tmp_path, tone_corpus):
    home = tone_corpus(tmp_path / "data", emodb_speakers=("03", "08", "09"))
    # EMO-DB (12 files) before EMOVO (8); RAVDESS, SAVEE, eNTERFACE are not there
    assert other_corpora("ravdess", data_home=home) == ["emodb", "emovo"]
    assert other_corpora("emodb", data_home=home) == ["emovo"]
    assert other_corpora("my.csv", modality="audio", data_home=home) == ["emodb", "emovo"]
    with pytest.raises(ValueError, match=r"no face corpus but .jaffe. under .* \(looked for ck"):
        other_corpora("jaffe", data_home=home)
    with pytest.raises(ValueError, match="not a built-in corpus: give the modality"):
        other_corpora("my.csv", data_home=home)
    with pytest.raises(ValueError, match="modality must be 'audio' or 'visual'"):
        other_corpora("my.csv", modality="speech", data_home=home)


def test_other_corpora_without_a_data_home_says_so(monkeypatch):
    monkeypatch.delenv("SKPATHNET_DATA", raising=False)
    with pytest.raises(FileNotFoundError, match="No data home"):
        other_corpora("emodb")


def test_sources_all_in_the_transfer_experiment(tmp_path, tone_corpus):
    home = tone_corpus(tmp_path / "data")
    lines = []
    pathnet = PathNetClassifier(n_generations=1, population_size=2, n_modules=4, n_active=2,
                                n_units=4, n_steps=2, n_threads=1, random_state=0)
    results = run_transfer_experiment("all", "emodb", methods={"transfer": Method(pathnet, True)},
                                      data_home=str(home), features="functionals", n_jobs=1,
                                      log=lines.append)
    assert results["sources"] == ["emovo"]
    assert "sources: every other speech corpus here, largest first: emovo" in lines
    assert results["n_folds"] == 2 and list(results["methods"]) == ["transfer"]
    with pytest.raises(ValueError, match="sources must be a list of corpora or 'all'; got 'emovo'"):
        run_transfer_experiment("emovo", "emodb", data_home=str(home))


def test_resolve_sources_keeps_a_list_and_names_a_bad_string(tmp_path, tone_corpus):
    home = tone_corpus(tmp_path / "data")
    assert resolve_sources(("emovo",), "emodb", data_home=home) == ["emovo"]
    lines = []
    assert resolve_sources("all", "emovo", data_home=home, log=lines.append) == ["emodb"]
    assert lines == ["sources: every other speech corpus here, largest first: emodb"]
    with pytest.raises(ValueError, match="a list of corpora or 'all'; got 'every'"):
        resolve_sources("every", "emodb", data_home=home)
