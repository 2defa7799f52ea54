"""The :class:`Connectome` object and :func:`load`."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from larvasim.util import larvasim_version

from . import pedigo2023, store, winding2023
from .paths import DataLocation, compiled_dir, locate
from .selection import Selection, select
from .sources import PEDIGO2023, get_spec
from .tables import MODALITIES, build_neuron_table
from .winding2023 import MATRIX_FILES, SYNAPSE_TYPE_NAMES, SYNAPSE_TYPES

__all__ = ["Connectome", "ConnectomeSummary", "READERS", "load", "larvasim_version"]

IO_COLUMNS = ("axon_input", "dendrite_input", "axon_output", "dendrite_output")


class Connectome:
    """A whole-brain connectome: neuron table, synapse counts by type, provenance.

    Do not construct directly; use :func:`connectomes.load`.

    Attributes
    ----------
    neurons : pandas.DataFrame
        One row per neuron, index = neuron index (0..N-1, the order of every
        matrix larvasim builds). Columns are described in
        :mod:`connectomes.tables`.
    provenance : dict
        Source, citation, file checksums, larvasim version, data location.
    absent : pandas.DataFrame
        Neurons named in ``annotations.csv`` that are not in the matrices.
    """

    def __init__(self, neurons: pd.DataFrame, synapses: dict, provenance: dict,
                 absent: pd.DataFrame | None = None):
        self.neurons = neurons
        self._synapses = {t: sp.csr_matrix(m) for t, m in synapses.items()}
        self.provenance = provenance
        self.absent = absent if absent is not None else pd.DataFrame()
        self._index = pd.Index(neurons["skid"].to_numpy())

    # -- basic facts ---------------------------------------------------------
    @property
    def name(self) -> str:
        """Data set name, e.g. ``"winding2023"``."""
        return self.provenance.get("dataset", "connectome")

    @property
    def n_neurons(self) -> int:
        return len(self.neurons)

    def __len__(self) -> int:
        return self.n_neurons

    @property
    def ids(self) -> np.ndarray:
        """Skeleton ids in neuron order."""
        return self.neurons["skid"].to_numpy()

    @property
    def synapse_types(self) -> tuple[str, ...]:
        """The synapse types available (``ad``, ``aa``, ``dd``, ``da``)."""
        return tuple(t for t in SYNAPSE_TYPES if t in self._synapses)

    @property
    def celltypes(self) -> list[str]:
        """Cell types present, sorted."""
        return sorted(self.neurons["celltype"].unique())

    @property
    def modalities(self) -> list[str]:
        """Sensory modalities present, in the paper's order."""
        present = set()
        for v in self.neurons["modality"]:
            present.update(x for x in v.split(";") if x)
        return [m for m in MODALITIES if m in present] + sorted(present - set(MODALITIES))

    @property
    def io_counts(self) -> pd.DataFrame:
        """Per-neuron axon/dendrite input and output site totals (``inputs.csv``/``outputs.csv``)."""
        return self.neurons[["skid", *IO_COLUMNS]]

    def index_of(self, skids) -> np.ndarray:
        """Neuron indices of the skeleton ids ``skids`` (error names unknown ids)."""
        skids = np.atleast_1d(np.asarray(skids, dtype=np.int64))
        idx = self._index.get_indexer(skids)
        if (idx < 0).any():
            from .errors import SelectionError
            raise SelectionError("skeleton id(s) not in the connectome: "
                                 + ", ".join(map(str, skids[idx < 0][:10])))
        return idx

    # -- weights -------------------------------------------------------------
    def weights(self, types=SYNAPSE_TYPES, dtype=np.int32) -> sp.csr_matrix:
        """Synapse counts summed over the chosen synapse types.

        Parameters
        ----------
        types : str or sequence of str
            Any of ``"ad"``, ``"aa"``, ``"dd"``, ``"da"`` (or ``"all"``). The
            default, all four, equals the published ``all-all`` matrix.
        dtype : numpy dtype
            Element type of the result (counts are integers).

        Returns
        -------
        scipy.sparse.csr_matrix, shape (N, N)
            ``W[i, j]`` = number of synapses from neuron ``i`` (presynaptic,
            row) onto neuron ``j`` (postsynaptic, column).
        """
        if isinstance(types, str):
            types = SYNAPSE_TYPES if types == "all" else (types,)
        types = tuple(types)
        if not types:
            raise ValueError("types must name at least one synapse type")
        bad = [t for t in types if t not in SYNAPSE_TYPES]
        if bad:
            raise ValueError(f"unknown synapse type(s) {bad}; choose from {list(SYNAPSE_TYPES)} "
                             f"({', '.join(f'{k}={v}' for k, v in SYNAPSE_TYPE_NAMES.items())})")
        # a connectome without some type (e.g. an edge list of axo-dendritic synapses only) has none of it
        have = tuple(t for t in types if t in self._synapses)
        if not have:
            n = self.n_neurons
            return sp.csr_matrix((n, n), dtype=dtype)
        types = have
        if set(types) == set(SYNAPSE_TYPES) and "all" in self._synapses:
            out = self._synapses["all"].copy()
        else:
            out = self._synapses[types[0]].copy()
            for t in types[1:]:
                out = out + self._synapses[t]
        out.sort_indices()
        return out.astype(dtype)

    # -- selection -------------------------------------------------------------
    def select(self, *, celltype=None, modality=None, hemisphere=None, name=None, ids=None,
               pair_of=None, allow_empty: bool = False, **columns) -> Selection:
        """Select neurons by any combination of criteria (AND across keywords).

        Parameters
        ----------
        celltype : str or list of str, optional
            Cell-type pattern(s), e.g. ``"KC"``, ``"DN-*"``, ``["MBIN", "MBON"]``.
        modality : str or list of str, optional
            Sensory modality, e.g. ``"olfactory"``, ``"gustatory-*"``.
        hemisphere : {"left", "right", "L", "R", "unknown"} or list, optional
        name : str or list of str, optional
            Name pattern matched against the label, the mushroom-body name, the
            annotation tokens and (when present) the CATMAID name, e.g.
            ``"DAN-*"``, ``"MBON-i1"``, ``"APL"``.
        ids : int or sequence of int, optional
            Skeleton ids.
        pair_of : int, sequence of int or Selection, optional
            These neurons together with their left/right homologs.
        allow_empty : bool
            Return an empty selection instead of raising when the combination
            of criteria matches nothing.
        **columns
            Any other column of :attr:`neurons`, e.g. ``class2="DAN"``,
            ``dVNCs=True``, ``second_order="olfactory"``.

        Returns
        -------
        Selection

        Raises
        ------
        SelectionError
            A criterion matches no neuron (the message lists close matches).
        """
        return select(self, celltype=celltype, modality=modality, hemisphere=hemisphere,
                      name=name, ids=ids, pair_of=pair_of, allow_empty=allow_empty, **columns)

    def all(self) -> Selection:
        """Every neuron."""
        return Selection(self, np.arange(self.n_neurons), "all neurons")

    # -- reports -------------------------------------------------------------
    def summary(self) -> "ConnectomeSummary":
        """Counts by cell type, modality and synapse type, plus provenance."""
        syn = {t: int(self._synapses[t].sum()) for t in self.synapse_types}
        total = self.weights()
        mod_counts: dict[str, int] = {}
        for m in self.modalities:
            mod_counts[m] = int(self.neurons["modality"].str.split(";").apply(lambda x: m in x).sum())
        return ConnectomeSummary(
            name=self.name,
            n_neurons=self.n_neurons,
            n_synapses=int(total.sum()),
            n_connected_pairs=int(total.nnz),
            synapses_by_type=syn,
            celltype_counts=self.neurons["celltype"].value_counts().to_dict(),
            modality_counts=mod_counts,
            hemisphere_counts=self.neurons["hemisphere"].value_counts().to_dict(),
            absent=self.absent.to_dict("records"),
            enriched=bool(self.provenance.get("nodes")),
            provenance=self.provenance,
        )

    def __repr__(self):
        s = self.weights()
        return (f"<Connectome {self.name}: {self.n_neurons} neurons, {int(s.sum())} synapses, "
                f"{s.nnz} connected pairs>")


@dataclass
class ConnectomeSummary:
    """What :meth:`Connectome.summary` reports; ``str()`` gives a readable table."""

    name: str
    n_neurons: int
    n_synapses: int
    n_connected_pairs: int
    synapses_by_type: dict
    celltype_counts: dict
    modality_counts: dict
    hemisphere_counts: dict
    absent: list
    enriched: bool
    provenance: dict = field(repr=False)

    def to_dict(self) -> dict:
        """Plain, JSON-serialisable dict."""
        return {k: getattr(self, k) for k in self.__dataclass_fields__}

    def __str__(self) -> str:
        p = self.provenance
        lines = [
            f"{self.name}: {p.get('citation', '')}",
            f"  doi:{p.get('doi', '')}",
            "",
            f"neurons            {self.n_neurons:>8,}",
            f"synapses           {self.n_synapses:>8,}",
            f"connected pairs    {self.n_connected_pairs:>8,}",
            "",
            "synapses by type",
        ]
        for t, n in self.synapses_by_type.items():
            share = 100.0 * n / self.n_synapses if self.n_synapses else 0.0
            lines.append(f"  {t}  {SYNAPSE_TYPE_NAMES[t]:<17} {n:>8,}  {share:5.1f} %")
        lines += ["", "neurons by cell type"]
        for ct, n in sorted(self.celltype_counts.items(), key=lambda kv: (-kv[1], kv[0])):
            lines.append(f"  {ct:<18} {n:>6}")
        lines += ["", "sensory and ascending neurons by modality"]
        for m, n in self.modality_counts.items():
            lines.append(f"  {m:<18} {n:>6}")
        lines += ["", "neurons by hemisphere: " + ", ".join(
            f"{h} {n}" for h, n in sorted(self.hemisphere_counts.items()))]
        if self.absent:
            lines += ["", f"annotated in annotations.csv but absent from the matrices ({len(self.absent)}):"]
            for a in self.absent:
                lines.append(f"  {a['skid']:>10}  {a['celltype']:<10} {a['hemisphere']:<6} {a['annotations']}")
        lines += ["", "provenance"]
        lines.append(f"  data            {p.get('source')} ({p.get('found_via')})")
        if p.get("container_sha256"):
            lines.append(f"  sha256          {p['container_sha256']}")
        lines.append(f"  verified        {'yes, against the published checksums' if p.get('verified') else 'no (verify=False)'}")
        nodes = p.get("nodes")
        lines.append(f"  enrichment      {nodes['path'] + ' (Pedigo et al. 2023 node table)' if nodes else 'none (Data S1 only)'}")
        lines.append(f"  compiled cache  {p.get('compiled_cache')}")
        lines.append(f"  larvasim        {p.get('larvasim_version')}")
        return "\n".join(lines)


def _input_checksums(loc: DataLocation) -> dict:
    memo = compiled_dir()
    parts: dict = {}
    if loc.kind == "zip":
        parts["s1"] = store.file_checksum(loc.source, memo)
    else:
        parts["s1"] = {name: store.file_checksum(loc.source / name, memo)
                       for name in sorted(set(MATRIX_FILES.values()) | set(winding2023.IO_COLUMNS)
                                          | {"annotations.csv"}) if (loc.source / name).is_file()}
    parts["nodes"] = store.file_checksum(loc.nodes, memo) if loc.nodes else None
    return parts


def _compile(name: str, loc: DataLocation, verify: bool, parts: dict, key: str, path: Path) -> dict:
    spec = get_spec(name)
    raw = winding2023.read(loc, verify=verify)
    nodes = None
    nodes_info = None
    if loc.nodes is not None:
        nodes = pedigo2023.read_nodes(loc.nodes)
        nodes_info = {"path": str(loc.nodes), "sha256": parts["nodes"],
                      "citation": PEDIGO2023.citation, "doi": PEDIGO2023.doi,
                      "verified": parts["nodes"] == PEDIGO2023.sha256}
    neurons, absent = build_neuron_table(raw.ids, raw.annotations, raw.io_counts, nodes)
    provenance = {
        "dataset": name,
        "citation": spec.citation,
        "doi": spec.doi,
        "licence": spec.licence,
        "source": str(loc.source),
        "source_kind": loc.kind,
        "container_sha256": parts["s1"] if loc.kind == "zip" else None,
        "files": raw.checksums,
        "nodes": nodes_info,
        "verified": bool(verify),
        "cache_key": key,
        "compiled_cache": str(path),
    }
    try:
        store.write(path, ids=raw.ids, synapses=raw.synapses, neurons=neurons, absent=absent,
                    provenance=provenance)
    except OSError as exc:
        from .errors import ConnectomeError

        raise ConnectomeError(f"cannot write larvasim's cache {path.parent} ({exc.strerror or exc}); set "
                              "LARVASIM_CACHE to a folder you can write") from None
    return {"ids": raw.ids, "synapses": raw.synapses, "neurons": neurons, "absent": absent,
            "provenance": provenance}


def _edgelist_reader(data_dir, **kw):
    from .edgelist import load_folder

    return load_folder(data_dir, **kw)


#: Readers of data sets by name, besides the published ones of :mod:`connectomes.sources` (read from
#: their verified files by :func:`load`): ``reader(data_dir, verify=, rebuild=) -> Connectome``.
#: Register another format here (see docs/extending.md).
READERS = {"edgelist": _edgelist_reader}


def load(name: str = "winding2023", data_dir: str | os.PathLike | None = None, *,
         verify: bool = True, rebuild: bool = False) -> Connectome:
    """Load a connectome.

    Parameters
    ----------
    name : str
        Data set name; ``"winding2023"`` (Data S1 of Winding et al. 2023), or
        ``"edgelist"``: the ``edges.csv`` and ``nodes.csv`` of the folder
        ``data_dir`` (:mod:`connectomes.edgelist`).
    data_dir : path-like, optional
        Folder holding the data (or the zip / extracted folder itself). If
        omitted: ``$LARVASIM_DATA``, then the user cache (see
        :mod:`connectomes.paths`).
    verify : bool
        Check every input file against its published SHA-256. Use ``False``
        for modified or synthetic data in the same format.
    rebuild : bool
        Ignore the compiled HDF5 cache and parse the CSVs again.

    Returns
    -------
    Connectome

    Raises
    ------
    DataNotFoundError
        The data is nowhere to be found; the message says how to get it.
    ConnectomeDataError, ChecksumError
        An input file is invalid (the message names file and place). No
        cache file is written in that case.
    """
    reader = READERS.get(name)
    if reader is not None:  # a data set with its own reader (e.g. a folder of edge-list files)
        return reader(data_dir, verify=verify, rebuild=rebuild)
    loc = locate(name, data_dir)
    parts = _input_checksums(loc)
    key = store.cache_key({"dataset": name, **parts})
    path = compiled_dir() / f"{name}-{key}.h5"
    data = None
    from_cache = False
    if path.is_file() and not rebuild:
        try:
            data = store.read(path)
            from_cache = True
        except (OSError, KeyError, ValueError):
            data = None  # unreadable or old cache: rebuild it
    if data is None:
        data = _compile(name, loc, verify, parts, key, path)
    elif verify:
        winding2023.verify_checksums(data["provenance"]["files"], str(loc.source))
        data["provenance"]["verified"] = True
    prov = data["provenance"]
    prov.update({"source": str(loc.source), "found_via": loc.found_via,
                 "larvasim_version": larvasim_version(), "compiled_cache": str(path),
                 "loaded_from_cache": from_cache})
    return Connectome(data["neurons"], data["synapses"], prov, data["absent"])
