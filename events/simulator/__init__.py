"""The shop simulator: realistic customers, behaviour and CRM campaigns, with exact ground truth.

See README.md in this folder for the generative model and the ground-truth definitions.
"""

from events.simulator.simulation import simulate
from events.simulator.summary import SimulationSummary

__all__ = ["SimulationSummary", "simulate"]
