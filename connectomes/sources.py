"""Registry of the connectome data sets larvasim knows how to read.

Each entry records where the data comes from (citation, DOI, public mirror),
the published SHA-256 checksums of the files, and the file layout.
"""
from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["DatasetSpec", "DATASETS", "PEDIGO2023", "get_spec"]


@dataclass(frozen=True)
class DatasetSpec:
    """Description of one published data set.

    Attributes
    ----------
    name : str
        Name used by :func:`connectomes.load` and ``larvasim fetch``.
    filename : str
        File name of the published archive (or table).
    sha256 : str
        Published SHA-256 of ``filename``.
    url : str
        Download address of the public mirror (pinned to a commit).
    citation, doi : str
        What to cite.
    members : dict
        For an archive: SHA-256 of each member file that larvasim reads, so
        that an extracted folder can be verified too.
    """

    name: str
    filename: str
    sha256: str
    url: str
    citation: str
    doi: str
    licence: str
    members: dict = field(default_factory=dict)


WINDING2023 = DatasetSpec(
    name="winding2023",
    filename="Supplementary-Data-S1.zip",
    sha256="8c1f43809ed5d527ba61b154e377cc21da26383a75eda8aab85ce05607a72a4c",
    url=(
        "https://github.com/brain-networks/larval-drosophila-connectome/raw/"
        "15e065f5c29f08c96ccd64ea8fe0f51510629009/Supplementary-Data-S1.zip"
    ),
    citation=(
        "Winding M, Pedigo BD, Barnes CL, et al. (2023) The connectome of an "
        "insect brain. Science 379:eadd9330, Data S1"
    ),
    doi="10.1126/science.add9330",
    licence="article CC BY 4.0; cite Winding et al. 2023",
    members={
        "ad_connectivity_matrix.csv": "6c758683f657e787fca5626dcab2a8e31fbcaf687ad6c9b2cb4fdd6b584a426f",
        "aa_connectivity_matrix.csv": "6ea30ce009da9baf5280dac80f37c2d9d21d1620e38a04eea2051920781b3e36",
        "dd_connectivity_matrix.csv": "476ee5e609091cdc623ba0620a6353f4aa652d145ed74929f07c04bbe6536d0c",
        "da_connectivity_matrix.csv": "e0d3dd85a53516271eeb310af0c0cd590a4efc1380b65f9aed6b34edecfcb317",
        "all-all_connectivity_matrix.csv": "94d51a821217048acf711f4feb71693a8487f2547540c6f2f25896c60e2348e3",
        "annotations.csv": "477250fc559684f0e898a12016f41221bfa320012e378ab7ae8c5125c7776f7e",
        "inputs.csv": "a42d206abe2963dd99f2edef9bad3dfa5e6b0b36ec1c87d99aafd21432a45851",
        "outputs.csv": "01cb2aeebb5b78bb36dabddd8220a3b5ba3fc6ce728b7860bdcaaee44f091276",
    },
)

PEDIGO2023 = DatasetSpec(
    name="pedigo2023",
    filename="unmatched_full_nodes.csv",
    sha256="d430f9bcb61e76e1bf681539382bced179d273ed8192f668a46c254b48dccadb",
    url=(
        "https://github.com/neurodata/bilateral-connectome/raw/main/"
        "data/processed-elife/unmatched_full_nodes.csv"
    ),
    citation=(
        "Pedigo BD, Winding M, Priebe CE, Vogelstein JT (2023) Bisected graph "
        "matching improves automated pairing of bilaterally homologous neurons "
        "from connectomes. Network Neuroscience 7:522 / eLife 12:e83739 (node table)"
    ),
    doi="10.7554/eLife.83739",
    licence="MIT (neurodata/bilateral-connectome)",
)

DATASETS = {WINDING2023.name: WINDING2023}


def get_spec(name: str) -> DatasetSpec:
    """Return the :class:`DatasetSpec` called ``name`` (error lists the known ones)."""
    try:
        return DATASETS[name]
    except KeyError:
        raise KeyError(
            f"unknown connectome {name!r}; available: {', '.join(sorted(DATASETS))}"
        ) from None
