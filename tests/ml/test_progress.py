import time

from ml.progress import RateMeter, format_seconds


def test_format_seconds_reads_like_a_clock():
    assert [format_seconds(s) for s in (0, 45.4, 185, 3720)] == ["0s", "45s", "3m05s", "1h02m"]


def test_rate_meter_counts_only_what_it_saw_done():
    meter = RateMeter(start_count=10, started=time.monotonic() - 20.0)
    assert meter.line(10, 50, "photos") == "10/50 photos"  # nothing done yet: no rate to claim
    line = meter.line(20, 50, "photos")  # 10 photos in ~20 s
    assert line.startswith("20/50 photos, 0.50 photos/s, ETA 1m0")
