def load_jaffe(*a, **k):
    raise NotImplementedError


def load_ckplus(*a, **k):
    raise NotImplementedError


def load_savee(*a, **k):
    raise NotImplementedError


def load_enterface(*a, **k):
    raise NotImplementedError
