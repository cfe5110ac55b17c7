"""The dashboard's caches share one configured size, and none of them can grow without bound."""

from __future__ import annotations

import ast
import datetime as dt
import gc
import tracemalloc
from pathlib import Path

import pytest

from cloudcore.errors import SettingsError
from cloudcore.settings import Settings
from cloudcore.sources.scene import DateGroup
from cloudcore.stats.cover import DateCover
from ui import cache_budget, services
from ui.state import View

SERVICES = Path(services.__file__)
APP = Path(__file__).resolve().parents[2] / "app.py"


def test_the_budget_comes_from_the_settings_and_their_variable():
    assert Settings().ui_cache_mb == Settings.from_env({}).ui_cache_mb == 512
    assert Settings.from_env({"CLOUDCORE_UI_CACHE_MB": ""}).ui_cache_mb == 512  # blank: the default
    sixty_four = Settings.from_env({"CLOUDCORE_UI_CACHE_MB": "64"})
    assert sixty_four.ui_cache_mb == 64
    assert cache_budget.share_bytes("comparisons", sixty_four) == int(64 * 0.50 * 1024 * 1024)
    assert cache_budget.share_bytes("cover", sixty_four) < cache_budget.share_bytes("cover", Settings())
    # Every cache keeps at least 1 MB, however small the budget.
    assert cache_budget.share_bytes("aois", Settings(ui_cache_mb=1)) == 1024 * 1024


@pytest.mark.parametrize("bad", ["lots", "-5", "0", "nan", "inf"])
def test_a_nonsense_budget_is_refused_naming_the_variable(bad):
    with pytest.raises(SettingsError, match=rf"^CLOUDCORE_UI_CACHE_MB='{bad}' (is not a number of MB|is outside the "
                                            r"allowed range): set a number from 1 to .* MB, or unset it for the default"):
        Settings.from_env({"CLOUDCORE_UI_CACHE_MB": bad})


def test_a_nonsense_budget_stops_the_dashboard_with_one_error_box(monkeypatch, tmp_path):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("CLOUDCORE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("CLOUDCORE_UI_CACHE_MB", "lots")
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    assert not at.exception, at.exception
    errors = [e.value for e in at.error]
    assert len(errors) == 1, errors
    assert "CLOUDCORE_UI_CACHE_MB='lots' is not a number of MB" in errors[0], errors
    assert len(errors[0].splitlines()) == 1
    assert not at.metric and not at.sidebar.children, "nothing past the settings ran"


def test_the_shares_add_up_to_the_budget():
    assert sum(cache_budget.SHARES.values()) == pytest.approx(1.0)
    settings = Settings.from_env({"CLOUDCORE_UI_CACHE_MB": "300"})
    total = sum(cache_budget.share_bytes(name, settings) for name in cache_budget.SHARES)
    assert total <= 300 * 1024 * 1024


def _cache_decorators():
    """(function name, decorator name, keyword names) of every st.cache_* decorator in services.py."""
    tree = ast.parse(SERVICES.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef):
            for deco in node.decorator_list:
                if isinstance(deco, ast.Call) and isinstance(deco.func, ast.Attribute) and deco.func.attr.startswith("cache_"):
                    yield node.name, deco.func.attr, {k.arg for k in deco.keywords}


def test_every_data_cache_is_bounded_in_bytes_and_entries():
    found = list(_cache_decorators())
    data = [(name, kws) for name, kind, kws in found if kind == "cache_data"]
    assert data, "no st.cache_data found in ui/services.py"
    for name, kws in data:
        assert {"max_entries", "max_size"} <= kws, f"{name}: st.cache_data needs max_entries and max_size"
    for name, kind, kws in found:
        if kind == "cache_resource":
            # Resources are objects Streamlit cannot measure: a count (or no argument: one item).
            assert "max_entries" in kws or name == "_cover_store", f"{name}: st.cache_resource needs max_entries"


def _record(i: int, ml: bool) -> tuple[tuple, DateCover]:
    """A cover-store item as large as real ones get: two merged scenes, every figure set, ML agreement."""
    day = dt.date(2020, 1, 1) + dt.timedelta(days=i)
    ids = [f"LC09_L2SP_0{24 + k}030_{day:%Y%m%d}_02_T1" for k in range(2)]
    record = DateCover(
        date=day.isoformat(), platform="landsat-9", scene_ids=ids, scene_cloud_pct=41.27 + i % 7,
        valid_pct=99.98, cloud_pct=12.34 + i % 5, shadow_pct=3.21, snow_pct=0.5, masked_pct=15.55, clear_pct=84.45,
        aoi_pixels=54321 + i,
        ml_agreement={"agree_pct": 97.1 + i % 3, "iou": 0.91, "qa_only_pct": 1.2, "ml_only_pct": 1.7, "both_pct": 14.0}
        if ml else None,
    )
    view = View(source="planetary-computer", aoi=f"8.45,47.2,8.6,47.3{i}", start=dt.date(2020, 1, 1),
                end=dt.date(2024, 1, 1), max_scene_cloud=None, flags="cirrus,cloud,dilated,shadow", buffer_m=30.0,
                mask="qa+ml", threshold=10.0, date=None, method="nearest", window_days=60, order="clearest")
    group = DateGroup(date=day, platform="landsat-9", wrs_path=24, scenes=())
    key = services._cover_key(view, group)[:-1] + (tuple(ids),)
    return key, record


def test_a_cover_store_item_fits_the_size_the_store_is_counted_in():
    n = 2000
    gc.collect()
    tracemalloc.start()
    try:
        store = services._CoverStore(n)
        before, _ = tracemalloc.get_traced_memory()
        for i in range(n):
            store.put(*_record(i, ml=True))
        gc.collect()
        after, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    per_item = (after - before) / n
    assert per_item <= services.COVER_ITEM_BYTES, f"{per_item:.0f} bytes an item"


def test_the_cover_store_keeps_its_count():
    store = services._CoverStore(10)
    for i in range(25):
        store.put(*_record(i, ml=False))
    assert sum(store.get(_record(i, ml=False)[0]) is not None for i in range(25)) == 10
    assert store.get(_record(24, ml=False)[0]) is not None  # the newest stay
