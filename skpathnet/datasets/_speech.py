def load_emodb(*a, **k):
    raise NotImplementedError


def load_ravdess(*a, **k):
    raise NotImplementedError


def load_emovo(*a, **k):
    raise NotImplementedError
