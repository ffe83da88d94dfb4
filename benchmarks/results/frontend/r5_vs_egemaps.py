"""Issue 30, round 5: the new descriptors against openSMILE eGeMAPSv02's on EMOVO's 588
clips (per-clip medians, Pearson and Spearman r). A validity check of what they measure,
not a choice by accuracy. Run from the repository root:

    SKPATHNET_DATA=../shared/data PYTHONPATH=. .venv/bin/python \
        benchmarks/results/frontend/r5_vs_egemaps.py [CACHE]   # > r5-vs-egemaps-emovo.log
"""
import sys

import numpy as np
from joblib import Memory
from scipy import stats
from skpathnet.experiments import load_corpus
from skpathnet.transformers import AcousticFunctionals, OpenSmileFunctionals
memory = Memory(sys.argv[1] if len(sys.argv) > 1 else ".skpathnet_cache", verbose=0)
b = load_corpus("emovo")
ours = AcousticFunctionals(loudness=True, temporal=True, formants=True, n_jobs=1, memory=memory)
X = ours.fit_transform(b.filenames); names = list(ours.get_feature_names_out())
eg = OpenSmileFunctionals(feature_set="eGeMAPSv02", n_jobs=1, memory=memory)
E = eg.fit_transform(b.filenames); enames = list(eg.get_feature_names_out())
pairs = [("loudness_mean", "loudness_sma3_amean"), ("loudness_peaks_per_s", "loudnessPeaksPerSec"),
         ("voiced_regions_per_s", "VoicedSegmentsPerSec"), ("voiced_region_mean_s", "MeanVoicedSegmentLengthSec"),
         ("voiced_region_std_s", "StddevVoicedSegmentLengthSec"), ("unvoiced_region_mean_s", "MeanUnvoicedSegmentLength"),
         ("unvoiced_region_std_s", "StddevUnvoicedSegmentLength"),
         ("f1_hz_mean", "F1frequency_sma3nz_amean"), ("f2_hz_mean", "F2frequency_sma3nz_amean"),
         ("f3_hz_mean", "F3frequency_sma3nz_amean"), ("f1_bandwidth_hz_mean", "F1bandwidth_sma3nz_amean"),
         ("f1_rel_amplitude_db_mean", "F1amplitudeLogRelF0_sma3nz_amean"),
         ("f2_rel_amplitude_db_mean", "F2amplitudeLogRelF0_sma3nz_amean"),
         ("f0_semitone_mean", "F0semitoneFrom27.5Hz_sma3nz_amean")]
print("| ours | eGeMAPSv02 | ours: median | eGeMAPS: median | Pearson r | Spearman r |")
print("|---|---|---|---|---|---|")
for a, e in pairs:
    x, y = X[:, names.index(a)], E[:, enames.index(e)]
    print(f"| {a} | {e} | {np.median(x):.3g} | {np.median(y):.3g} | {stats.pearsonr(x, y)[0]:.2f} | {stats.spearmanr(x, y)[0]:.2f} |")
