class LogMelSegmenter:  # placeholder, replaced by the audio front end
    pass
