import os
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def data_home():
    """The shared corpora folder: fails in CI if missing, skips elsewhere."""
    home = os.environ.get("SKPATHNET_DATA")
    if home and Path(home).is_dir():
        return Path(home)
    msg = (
        "real corpora not found: set SKPATHNET_DATA to the shared data folder "
        f"(currently {home!r})"
    )
    if os.environ.get("CI"):
        pytest.fail(msg)
    pytest.skip(msg)
