"""forecast: Monte Carlo odds for all-or-nothing crowdfunding campaigns."""
from .calibration import calibrate, generic_prior
from .contacts import ContactsError, circles_from_contacts, read_contacts
from .result import Result, package_version, simulate, simulate_many
from .scenario import Scenario, ScenarioError, load_scenario
from .sweep import recommend, sensitivity, sweep

__version__ = package_version()

__all__ = ["Result", "Scenario", "ScenarioError", "load_scenario", "simulate",
           "simulate_many", "sweep", "recommend", "sensitivity", "calibrate",
           "generic_prior", "read_contacts", "circles_from_contacts", "ContactsError",
           "__version__"]
