import pytest


@pytest.fixture
def smoke_parameters(tmp_path):
    """Notebook parameters of a smoke run: two small models, batches 1 and 2, a private results folder."""
    return {"profile": "smoke", "models": "", "device": "cpu", "threads": 0,
            "results_dir": str(tmp_path / "results")}
