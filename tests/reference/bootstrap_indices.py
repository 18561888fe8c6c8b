"""Write the bootstrap draws of stsanalysis for the R reference scripts to replay.

The numpy generator cannot be reproduced in R, so the rows each bootstrap replicate draws
are written here (1-based, one replicate per line) and cutpoint.R / reclassification.R
recompute every replicate from them with cutpointr / Hmisc:

    cd tests/reference
    ../../.venv/bin/python bootstrap_indices.py

Seeds and sizes must match tests/test_cutpoint.py and tests/test_reclassification.py.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).parent
#: (data set, number of replicates, seed) replayed by the R scripts.
CUTPOINT_REPLAY = ("n120", 100, 11)
RECLASSIFICATION_REPLAY = (100, 12)


def main() -> None:
    from stsanalysis.stats.cutpoint import bootstrap_indices as cutpoint_draws
    from stsanalysis.stats.reclassification import bootstrap_indices as reclassification_draws

    data = pd.read_csv(HERE / "cutpoint_data.csv")
    name, n_boot, seed = CUTPOINT_REPLAY
    n = int((data["dataset"] == name).sum())
    draws = cutpoint_draws(n, n_boot, seed) + 1
    np.savetxt(HERE / "cutpoint_boot_indices.csv", draws, fmt="%d", delimiter=",")

    data = pd.read_csv(HERE / "reclassification_data.csv")
    n_boot, seed = RECLASSIFICATION_REPLAY
    draws = reclassification_draws(data["y"].to_numpy(), n_boot, seed) + 1
    np.savetxt(HERE / "reclassification_boot_indices.csv", draws, fmt="%d", delimiter=",")


if __name__ == "__main__":
    main()
