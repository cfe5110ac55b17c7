"""Fill methods are strategy objects in a registry: one module each, and every list comes from it."""

from __future__ import annotations

import datetime as dt
import pkgutil
import textwrap
from pathlib import Path

import numpy as np
import pytest

import cloudcore
from cloudcore.cli import _build_parser
from cloudcore.gapfill import methods as methods_package
from cloudcore.gapfill import registry
from cloudcore.gapfill.base import FillMethod, Layer
from cloudcore.gapfill.kernel import fill_gaps

REPO = Path(__file__).resolve().parents[1]


def test_every_method_module_holds_one_registered_method():
    modules = sorted(m.name for m in pkgutil.iter_modules(methods_package.__path__))
    assert len(modules) == len(registry.METHODS) >= 4
    for name, method in registry.METHODS.items():
        assert isinstance(method, FillMethod)
        assert method.name == name
        assert method.description and "\n" not in method.description
        assert isinstance(method.needs_all_donors, bool)
        assert type(method).__module__.rsplit(".", 1)[1] in modules
    assert registry.DEFAULT_METHOD in registry.METHODS
    assert cloudcore.FILL_METHODS == tuple(registry.METHODS) and cloudcore.DEFAULT_FILL_METHOD == registry.DEFAULT_METHOD


def test_the_cli_choices_and_help_come_from_the_registry():
    parser = _build_parser()
    fill = parser._subparsers._group_actions[0].choices["fill"]  # argparse keeps them here
    method = next(a for a in fill._actions if a.dest == "method")
    assert tuple(method.choices) == registry.FILL_METHODS
    assert method.default == registry.DEFAULT_METHOD
    for name, description, _ in registry.describe_methods():
        assert f"{name}" in method.help and description in method.help


def test_the_readme_table_is_the_registry_table():
    assert registry.methods_markdown() in (REPO / "README.md").read_text()


def test_the_dashboard_menu_and_its_help_come_from_the_registry():
    state = (REPO / "ui" / "state.py").read_text()
    assert 'st.selectbox("Method", FILL_METHODS' in state and "describe_methods()" in state


def test_adding_a_method_is_adding_one_module(tmp_path, monkeypatch):
    (tmp_path / "brightest.py").write_text(textwrap.dedent('''
        """``brightest``: a test method that fills each hole from the brightest usable donor."""

        import datetime as dt
        from typing import ClassVar

        import numpy as np

        from cloudcore.gapfill.base import FillJob, FillMethod


        class Brightest(FillMethod):
            name: ClassVar[str] = "brightest"
            description: ClassVar[str] = "the brightest clear pixel (a test method)"
            needs_all_donors: ClassVar[bool] = True

            def fill(self, job: FillJob) -> set[dt.date]:
                used = set()
                best = np.full(job.holes.shape, -1.0)
                for donor in job.donors:
                    brighter = job.holes & donor.usable & (donor.bands.sum(axis=0) > best)
                    if brighter.any():
                        best[brighter] = donor.bands.sum(axis=0)[brighter]
                        job.take(donor, brighter)
                        used.add(donor.date)
                return used
    '''))
    monkeypatch.setattr(methods_package, "__path__", [*methods_package.__path__, str(tmp_path)])
    found = registry._discover()
    assert list(found)[: len(registry.METHODS)] == list(registry.METHODS)
    assert "brightest" in found
    # The kernel runs it like any other, by the object the registry made.
    target = Layer(dt.date(2022, 6, 10), np.full((1, 1, 2), 5, np.uint16), np.array([[True, False]]))
    dim = Layer(dt.date(2022, 6, 12), np.full((1, 1, 2), 7, np.uint16), np.ones((1, 2), bool))
    bright = Layer(dt.date(2022, 6, 30), np.full((1, 1, 2), 9, np.uint16), np.ones((1, 2), bool))
    result = fill_gaps(target, [dim, bright], np.ones((1, 2), bool), method=found["brightest"])
    assert result.filled[0].tolist() == [[5, 9]] and result.method == "brightest"
    assert result.donors_used == (dt.date(2022, 6, 12), dt.date(2022, 6, 30))


def test_two_methods_of_one_name_are_refused(tmp_path, monkeypatch):
    (tmp_path / "copy_of_nearest.py").write_text(textwrap.dedent('''
        from cloudcore.gapfill.methods.nearest import Nearest

        class AnotherNearest(Nearest):
            pass
    '''))
    monkeypatch.setattr(methods_package, "__path__", [*methods_package.__path__, str(tmp_path)])
    with pytest.raises(RuntimeError, match="Two fill methods are named 'nearest'"):
        registry._discover()


def test_a_method_with_options_takes_them_and_refuses_others():
    from cloudcore.gapfill.methods.nearest_matched import MatchPolicy

    target = Layer(dt.date(2022, 6, 10), np.full((1, 1, 1), 5, np.uint16), np.array([[False]]))
    donor = Layer(dt.date(2022, 6, 12), np.full((1, 1, 1), 7, np.uint16), np.array([[True]]))
    result = fill_gaps(target, [donor], np.ones((1, 1), bool), method="nearest-matched", matching=MatchPolicy(min_shared_px=1))
    assert result.filled[0, 0, 0] == 7 and result.corrections[0].reason.startswith("none: too few")
    with pytest.raises(cloudcore.InvalidInputError, match="takes no option"):
        fill_gaps(target, [donor], np.ones((1, 1), bool), method="nearest", matching=MatchPolicy())


def test_nearest_first_methods_are_the_ones_that_may_stop_reading_early():
    early = {name for name, _, all_donors in registry.describe_methods() if not all_donors}
    assert early == {"nearest"}
