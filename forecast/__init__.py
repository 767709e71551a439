"""forecast: Monte Carlo odds for all-or-nothing crowdfunding campaigns."""
from .result import Result, package_version, simulate, simulate_many
from .scenario import Scenario, ScenarioError, load_scenario
from .advice import advise, recommend, what_it_takes
from .sweep import sensitivity, sweep

__version__ = package_version()

__all__ = ["Result", "Scenario", "ScenarioError", "load_scenario", "simulate",
           "simulate_many", "sweep", "recommend", "advise", "what_it_takes", "sensitivity",
           "__version__"]
