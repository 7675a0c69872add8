"""Make large freed blocks go back to the system at once (glibc), so that peaks do not add up.

The policy lives in `backoffice.bulk`, beside the readers that relax it while they parse a file.
"""

from __future__ import annotations

from backoffice.bulk import return_large_blocks

__all__ = ["return_large_blocks"]
