"""forecast: Monte Carlo odds for all-or-nothing crowdfunding campaigns.

The public names are imported on first use (PEP 562), so that ``forecast --help``
and the scenario checks do not pay for NumPy, pandas and SciPy.
"""
from __future__ import annotations

import importlib
import sys
import types
from typing import Any

#: Where each public name lives.
_HOME = {
    "Result": "result", "simulate": "result", "simulate_many": "result",
    "Scenario": "scenario", "ScenarioError": "scenario", "load_scenario": "scenario",
    "sweep": "sweep", "sensitivity": "sweep",
    "recommend": "advice", "advise": "advice", "what_it_takes": "advice",
    "calibrate": "calibration", "generic_prior": "calibration",
    "read_contacts": "contacts", "circles_from_contacts": "contacts",
    "ContactsError": "contacts",
    "track": "tracking", "Track": "tracking", "TrackError": "tracking",
    "read_observed": "tracking", "who_to_remind": "track_advice",
    # Many scenarios and live campaigns in one run (docs/batch.md).
    "read_batch": "batch", "run_batch": "batch", "BatchItem": "batch",
    **{name: "plots" for name in ("plot_fan", "plot_daily", "plot_probability_curves",
                                  "plot_heatmap", "plot_tornado", "plot_circles")},
}

__all__ = [*_HOME, "__version__"]


def __getattr__(name: str) -> Any:
    if name == "__version__":
        from .result import package_version
        value = package_version()
    elif name in _HOME:
        value = getattr(importlib.import_module(f".{_HOME[name]}", __name__), name)
    else:
        raise AttributeError(f"module 'forecast' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


class _Package(types.ModuleType):
    """The package, whose ``sweep`` is the function even once the module
    ``forecast.sweep`` is imported (the import system then binds the name to the
    module, which stays in ``sys.modules``)."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "sweep" and isinstance(value, types.ModuleType):
            value = value.sweep
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
