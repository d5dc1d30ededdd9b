import pytest

from ml.data.pairs import build_pairs
from ml.evaluate import positives_for


def test_adapter_turns_a_tiny_synthetic_earth_into_records(tmp_path):
    pytest.importorskip("ml.synth.generate", reason="ml.synth lives on the synthetic-Earth branch")
    from ml.data.synth_adapter import records_from_synth
    from ml.synth.config import get_preset
    from ml.synth.generate import generate

    generate(get_preset("tiny", 0), tmp_path)
    records = records_from_synth(tmp_path)
    assert len(records.years) >= 2 and {"train", "val", "test"} <= set(records.photos)
    db = records.database()
    assert db and {t.year for t in db} == {max(records.years)}
    assert len({t.location_key for t in records.tiles}) * len(records.years) == len(records.tiles)
    assert all(len(p.footprint) == 4 and p.path.exists() for p in records.photos["train"])
    assert any(len(p) for p in positives_for(records.photos["test"], db))
    assert build_pairs(records.photos["train"], records.tiles, min_iou=0.05)
