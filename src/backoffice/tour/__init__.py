"""The tour: a demo workspace of the platform, built by playing weeks of work through the engine.

    from backoffice.tour import TourSettings, prepare_workspace
    workspace = prepare_workspace(Path("backoffice-demo"), settings=TourSettings(), now=now)

- `playbooks`: how each template of the library is played (payloads, moves, results); the
  engine tests play the same cases.
- `cast`: the demo's people, their roles, groups and passwords, put in the directory.
- `variants`: each simulated case's own payload, and the variants that change its path.
- `simulation`: the seeded simulation that drives the engine as the cast, on a simulated clock.
- `workspace`: builds the SQLite workspace once, and reuses it while it is current.

The tour sits below the interfaces: `backoffice demo` (cli) builds and serves it; tests and
benchmarks build it too.
"""

from backoffice.tour.cast import CAST, DemoPerson
from backoffice.tour.simulation import Simulation, SimulationReport
from backoffice.tour.workspace import TourSettings, Workspace, build_workspace, prepare_workspace

__all__ = ["CAST", "DemoPerson", "Simulation", "SimulationReport", "TourSettings", "Workspace", "build_workspace",
           "prepare_workspace"]
