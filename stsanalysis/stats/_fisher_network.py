"""Exact two-sided p of Fisher's test for r x c tables: a network algorithm that meets in the middle.

The engine behind :func:`stsanalysis.stats.contingency.fisher_exact`, written from the
published descriptions of the network algorithm (Mehta & Patel 1983, JASA 78:427; 1986,
ACM TOMS 12:154; Clarkson, Fan & Joe 1993, ACM TOMS 19:484), not from any implementation.

Notation. A table with row sums ``R`` and column sums ``C`` has null probability
``exp(log_constant - S)`` with ``S = sum log n_ij!`` and ``log_constant = sum log R_i! +
sum log C_j! - log N!``; it is "as extreme" as the observed table when its ``S`` is at
least the observed one minus a tolerance (``threshold``). Tables are built one column per
stage, largest column first. A node is the multiset of the remaining row sums (kept
sorted: the completions of a partial table do not depend on which row is which), a
node's "past" the ``S`` of the columns already filled, its "futures" the ``S`` of its
completions.

* Forward, as in the network algorithm: (node, past) pairs, merged when equal, are pruned
  with bounds on the futures - a pair whose every completion is extreme adds its
  closed-form mass ``(sum r)! / (prod r_i! prod C_j!)``, one without any is dropped - and
  only the undecided pairs are extended by the next column.
* Backward, from the last column: the futures of every node of a stage are listed exactly
  (sorted values with multiplicities and partial sums of their probabilities).
* Whichever step is cheaper goes first; where they meet, each pair's extreme mass is read
  off its node's sorted futures (a binary search and a partial sum).

The lower bound of the futures is a Lagrangian dual value of the integer convex
transportation problem min S (the dual's maximum equals min S, the constraint matrix being
totally unimodular; here it is taken at a closed-form near-optimal point); the upper bound
is the better of the two relaxations that drop the row or the column sums. Everything is
vectorised with NumPy over all pairs (or nodes) of a stage; tables that would take minutes
are refused with an InputError.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy.special import gammaln

from ..errors import InputError

__all__ = ["FEXACT_LOG_TOLERANCE", "fisher_network_p"]

#: R's FEXACT (behind ``fisher.test`` for tables larger than 2 x 2) counts a table as
#: extreme when its log probability is at most the observed one plus this (Mehta & Patel's
#: TOL), so that tables tied with the observed one are not lost to rounding.
FEXACT_LOG_TOLERANCE = 3.45254e-7
#: Most partial tables (or listed completions) held at once; beyond, a table takes minutes.
_MAX_PARTIAL_TABLES = 4_000_000
#: Most partial tables extended into the listed completions, a chunk at a time.
_MAX_EXTENSIONS = 200_000_000
_CHUNK = 1_000_000
#: Finest grid on which values of S are compared and merged (2**-40 ~ 9e-13: values equal
#: on it are the same up to floating-point rounding; merged ones are summed as equal).
_GRID = 2.0**40
#: Most node keys for a direct key -> index table (else binary search).
_MAX_LOOKUP = 2**22


class _TooLarge(Exception):
    """An enumeration step would exceed its size limit."""


@dataclasses.dataclass(frozen=True)
class _Network:
    rows: np.ndarray  # row sums, ascending: the caps of a node's sorted remaining sums
    columns: np.ndarray  # column sums, descending: stage k fills column k
    log_factorial: np.ndarray
    log_constant: float
    threshold: float  # a table is extreme when its S is at least this
    radix: np.ndarray  # mixed-radix weights: a sorted node <-> an integer key
    positions: np.ndarray | None  # key -> index of the node in its stage (None: too many keys, binary search)

    def keys(self, nodes: np.ndarray) -> np.ndarray:
        return nodes @ self.radix

    def nodes(self, keys: np.ndarray) -> np.ndarray:
        return keys[:, None] // self.radix % (self.rows + 1)

    def register(self, keys: np.ndarray) -> None:
        """Remember the index of each node of a stage (keys of different stages never collide)."""
        if self.positions is not None:
            self.positions[keys] = np.arange(len(keys))

    def position(self, keys: np.ndarray, stage_keys: np.ndarray) -> np.ndarray:
        """Index of each key among the registered, ascending ``stage_keys``."""
        return self.positions[keys] if self.positions is not None else np.searchsorted(stage_keys, keys)

    def log_mass(self, nodes: np.ndarray, stage: int) -> np.ndarray:
        """log of the sum over a node's completions of exp(-S): (sum r)! / (prod r_i! prod C_j!)."""
        lf = self.log_factorial
        return lf[nodes.sum(axis=1)] - lf[nodes].sum(axis=1) - lf[self.columns[stage:]].sum()


def fisher_network_p(counts: np.ndarray, log_tolerance: float = FEXACT_LOG_TOLERANCE) -> float:
    """Two-sided p of Fisher's exact test for a table of counts (positive margins), at most 1.

    The null probability of the tables with the margins of ``counts`` whose log probability
    is at most the observed one plus ``log_tolerance``. Raises InputError, naming the table,
    when the enumeration would hold more than _MAX_PARTIAL_TABLES partial tables at once or
    extend more than _MAX_EXTENSIONS (tens of seconds): such tables take minutes.
    """
    network = _network(counts, log_tolerance)
    try:
        p = _search(network)
    except _TooLarge:
        raise InputError(
            f"Fisher's exact test: the {counts.shape[0]} x {counts.shape[1]} table with n = {counts.sum()} has too many "
            f"possible tables for an exact p in reasonable time (over {_MAX_PARTIAL_TABLES:,} partial tables at once or "
            f"{_MAX_EXTENSIONS:,} in one step: minutes of computation; R's fisher.test needs more than its default "
            "workspace for such tables). Use chi_square, or merge sparse categories."
        ) from None
    return float(min(1.0, p))


def _network(counts: np.ndarray, log_tolerance: float) -> _Network:
    if counts.shape[0] > counts.shape[1]:
        counts = counts.T  # nodes over the shorter side: fewer distinct remaining sums
    rows = np.sort(counts.sum(axis=1))
    columns = np.sort(counts.sum(axis=0))[::-1]
    log_factorial = gammaln(np.arange(counts.sum() + 1) + 1.0)
    n_keys = float(np.prod(rows + 1.0))
    if n_keys >= 2.0**62:
        raise InputError(
            f"Fisher's exact test: the {counts.shape[0]} x {counts.shape[1]} table is too large for an exact p; use chi_square."
        )
    return _Network(
        rows=rows,
        columns=columns,
        log_factorial=log_factorial,
        log_constant=float(log_factorial[rows].sum() + log_factorial[columns].sum() - log_factorial[counts.sum()]),
        threshold=float(log_factorial[counts].sum() - log_tolerance),
        radix=np.concatenate([[1], np.cumprod(rows[:-1] + 1)]).astype(np.int64),
        positions=np.empty(int(n_keys), dtype=np.int64) if n_keys <= _MAX_LOOKUP else None,
    )


def _sorted_keys(network: _Network, lines: list[np.ndarray]) -> np.ndarray:
    """Keys of the nodes whose remaining row sums are ``lines`` (one array per row), sorted first.

    A few rows are sorted by a compare-exchange network, much faster than np.sort(axis=1).
    """
    if len(lines) > 8:
        return network.keys(np.sort(np.column_stack(lines), axis=1))
    lines = list(lines)
    for sweep in range(len(lines)):
        for i in range(sweep % 2, len(lines) - 1, 2):  # odd-even transposition sort
            lines[i], lines[i + 1] = np.minimum(lines[i], lines[i + 1]), np.maximum(lines[i], lines[i + 1])
    return sum(line * weight for line, weight in zip(lines, network.radix))


def _fillings(network: _Network, nodes: np.ndarray, column: int, limit: float = np.inf, count_only: bool = False):
    """Every way to fill one column of total ``column`` from each node's remaining row sums.

    Returns the node index of each filling (ascending), the key of the child node (the
    remaining sums, sorted) and the cost sum(log x_i!) of the filled cells; raises
    _TooLarge when more than ``limit`` would be held. With ``count_only``, the number of
    fillings of each node, without listing the last row's choices.
    """
    log_factorial = network.log_factorial
    parent = np.arange(len(nodes))
    remaining = nodes.astype(np.int32)  # half the memory of the largest arrays
    left = np.full(len(nodes), column, dtype=np.int64)
    cost = np.zeros(len(nodes))
    for row in range(nodes.shape[1] - 1):
        capacity_below = remaining[:, row + 1 :].sum(axis=1)
        low = np.maximum(0, left - capacity_below)
        choices = np.minimum(remaining[:, row], left) - low + 1
        if count_only and row == nodes.shape[1] - 2:
            return np.bincount(parent, weights=choices, minlength=len(nodes)).astype(np.int64)
        if choices.sum() > limit:
            raise _TooLarge
        source = np.repeat(np.arange(len(parent)), choices)
        cell = low[source] + np.arange(len(source)) - np.repeat(np.cumsum(choices) - choices, choices)
        parent, remaining, left = parent[source], remaining[source], left[source] - cell
        remaining[:, row] -= cell
        cost = cost[source] + log_factorial[cell]
    remaining[:, -1] -= left
    return parent, _sorted_keys(network, [remaining[:, i] for i in range(nodes.shape[1])]), cost + log_factorial[left]


def _stage_nodes(network: _Network, total: int, limit: float) -> np.ndarray:
    """One stage's nodes by key: every sorted r <= rows (both ascending) with sum(r) = total."""
    rows = network.rows
    nodes = np.zeros((1, 0), dtype=np.int64)
    used = np.zeros(1, dtype=np.int64)
    for row in range(rows.size - 1):
        previous = nodes[:, -1] if row else np.zeros(len(nodes), dtype=np.int64)
        low = np.maximum(previous, total - used - rows[row + 1 :].sum())
        choices = np.maximum(np.minimum(rows[row], (total - used) // (rows.size - row)) - low + 1, 0)
        if choices.sum() > limit:
            raise _TooLarge
        source = np.repeat(np.arange(len(nodes)), choices)
        value = low[source] + np.arange(len(source)) - np.repeat(np.cumsum(choices) - choices, choices)
        nodes = np.column_stack([nodes[source], value])
        used = used[source] + value
    nodes = np.column_stack([nodes, total - used])
    return nodes[np.argsort(network.keys(nodes))]


@dataclasses.dataclass(frozen=True)
class _Futures:
    """The completion values S of every node of one stage, sorted, with tail sums of their mass.

    Entry i stands for the completions of one node whose S equals ``values[i]`` on the grid;
    ``mass[i]`` is their number.
    """

    stage: int
    keys: np.ndarray  # node keys, ascending
    low: np.ndarray  # per node: smallest and largest S of a completion
    high: np.ndarray
    log_total: np.ndarray  # per node: log of the sum over the completions of exp(-S)
    codes: np.ndarray  # per entry: the node's offset + (S - low) on the grid, ascending
    offsets: np.ndarray  # per node: first code of its block of spans codes
    spans: np.ndarray
    grid: float
    values: np.ndarray
    mass: np.ndarray
    ends: np.ndarray  # per node: one past its last entry
    tail: np.ndarray  # sum of mass * exp(low - S) from each entry to the end of its node

    def extreme_mass(self, network: _Network, pairs: _Pairs) -> float:
        """Sum over the pairs of weight * P(the node's completions with past + S >= threshold)."""
        index, past, weight = network.position(pairs.keys, self.keys), pairs.past, pairs.weight
        needed = network.threshold - past  # the completions must have S >= needed
        every = needed <= self.low[index]
        p = (weight[every] * np.exp(network.log_constant - past[every] + self.log_total[index[every]])).sum()
        some = ~every & (needed <= self.high[index])
        index, needed, past, weight = index[some], needed[some], past[some], weight[some]
        offset = np.clip(np.round((needed - self.low[index]) * self.grid), 0, self.spans[index] - 1).astype(np.int64)
        position = np.searchsorted(self.codes, self.offsets[index] + offset)
        return p + (weight * np.exp(network.log_constant - past - self.low[index]) * self.tail[position]).sum()


def _last_futures(network: _Network) -> _Futures:
    """The futures of the last stage: its column is determined, one completion per node."""
    last = network.columns.size - 1
    nodes = _stage_nodes(network, int(network.columns[last]), np.inf)
    values = network.log_factorial[nodes].sum(axis=1)
    return _sorted_futures(network, last, nodes, np.arange(len(nodes)), values, np.ones(len(nodes)))


def _extend_futures(network: _Network, futures: _Futures, limit: float) -> _Futures:
    """The futures of the stage before ``futures`` (_TooLarge beyond ``limit`` entries)."""
    stage = futures.stage - 1
    edge_limit = limit * len(futures.keys) / len(futures.codes)  # entries ~ edges * mean list length
    nodes = _stage_nodes(network, int(network.columns[stage:].sum()), edge_limit)
    parent, child_keys, cost = _fillings(network, nodes, int(network.columns[stage]), edge_limit)
    child = network.position(child_keys, futures.keys)
    starts = futures.ends - np.diff(np.concatenate([[0], futures.ends]))
    sizes = futures.ends[child] - starts[child]
    if sizes.sum() > limit:
        raise _TooLarge
    edge = np.repeat(np.arange(len(child)), sizes)
    entry = np.repeat(starts[child] - (np.cumsum(sizes) - sizes), sizes) + np.arange(len(edge))
    return _sorted_futures(network, stage, nodes, parent[edge], cost[edge] + futures.values[entry], futures.mass[entry])


def _sorted_futures(network: _Network, stage: int, nodes, owner, values, mass) -> _Futures:
    """Sort the (owner node, S, mass) entries (owners ascending), merge equal S, add the tail sums."""
    first = np.searchsorted(owner, np.arange(len(nodes)))
    low, high = np.minimum.reduceat(values, first), np.maximum.reduceat(values, first)
    # each node's values get a block of int64 codes: S equal on the grid are merged (2**-40,
    # or as fine as the codes of all nodes allow - below 1e-10 unless the ranges of S over
    # the nodes sum to more than 4.6e8)
    grid = min(_GRID, 2.0**62 / float((high - low + 1.0).sum()))
    spans = ((high - low) * grid).astype(np.int64) + 2
    offsets = np.cumsum(spans) - spans
    codes = offsets[owner] + np.round((values - low[owner]) * grid).astype(np.int64)
    order = np.argsort(codes)
    codes = codes[order]
    group = np.flatnonzero(np.concatenate([[True], codes[1:] != codes[:-1]]))
    kept = order[group]
    values, mass, codes, owner = values[kept], np.add.reduceat(mass[order], group), codes[group], owner[kept]
    ends = np.searchsorted(codes, offsets + spans)
    keys = network.keys(nodes)
    network.register(keys)
    return _Futures(
        stage=stage,
        keys=keys,
        low=low,
        high=high,
        log_total=network.log_mass(nodes, stage),
        codes=codes,
        offsets=offsets,
        spans=spans,
        grid=grid,
        values=values,
        mass=mass,
        ends=ends,
        tail=_segment_tails(mass * np.exp(low[owner] - values), ends),
    )


def _segment_tails(mass: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """tail[i] = sum of mass[i:end of i's segment].

    Summed within each segment, never as a difference of running sums over all segments
    (which would lose a node's small tails to cancellation against the other nodes' mass).
    """
    lengths = np.diff(np.concatenate([[0], ends]))
    width = int(lengths.max())
    if len(ends) * width > 4 * len(mass) + 10_000:  # very uneven lengths: one segment at a time
        return np.concatenate([np.cumsum(mass[end - length : end][::-1])[::-1] for end, length in zip(ends, lengths)])
    segment = np.repeat(np.arange(len(ends)), lengths)
    from_end = ends[segment] - 1 - np.arange(len(mass))  # rows of the padded array run from each segment's end
    padded = np.zeros((len(ends), width))
    padded[segment, from_end] = mass
    return np.cumsum(padded, axis=1)[segment, from_end]


@dataclasses.dataclass(frozen=True)
class _Pairs:
    """Partial tables filled up to ``stage``, merged by (node, past): node keys, S so far, multiplicity."""

    stage: int
    keys: np.ndarray
    past: np.ndarray
    weight: np.ndarray

    def subset(self, chosen) -> _Pairs:
        return _Pairs(self.stage, self.keys[chosen], self.past[chosen], self.weight[chosen])


def _search(network: _Network) -> float:
    """Sum the extreme mass: pairs go forward, futures lists backward, the cheaper step first.

    A backward step is taken when its list is at most twice as long as the forward step's
    pairs (extending pairs also costs a merge and bounds); the forward step into the futures'
    stage is done in chunks, straight into the look-up of the futures.
    """
    futures = _last_futures(network)
    pairs = _Pairs(0, network.keys(network.rows[None, :]), np.zeros(1), np.ones(1))
    p, pruned = 0.0, -1
    while pairs.stage < futures.stage:
        if pruned != pairs.stage:
            accepted, pairs = _prune(network, pairs)
            p, pruned = p + accepted, pairs.stage
            if not len(pairs.past):
                return p
            fillings = _Fillings.of(network, pairs)
        try:
            futures = _extend_futures(network, futures, min(2.0 * fillings.total, _MAX_PARTIAL_TABLES))
            continue
        except _TooLarge:
            pass
        if pairs.stage + 1 == futures.stage:
            return p + _extend_into(network, pairs, fillings, futures)
        if fillings.total > _MAX_PARTIAL_TABLES:
            raise _TooLarge
        pairs = _merge(fillings.extend(network, pairs, 0, len(fillings.counts)))
    return p + futures.extreme_mass(network, pairs)


def _extend_into(network: _Network, pairs: _Pairs, fillings: _Fillings, futures: _Futures) -> float:
    """Extreme mass of the pairs extended by one column into the futures' stage, a few nodes at a time."""
    if fillings.total > _MAX_EXTENSIONS:
        raise _TooLarge
    extensions = np.cumsum(fillings.counts * np.diff(fillings.pair_starts))
    cuts = np.searchsorted(extensions, np.arange(_CHUNK, extensions[-1], _CHUNK)) + 1
    bounds = np.unique(np.concatenate([[0], cuts, [len(extensions)]]))
    chunks = zip(bounds[:-1], bounds[1:])
    return sum(futures.extreme_mass(network, fillings.extend(network, pairs, start, stop)) for start, stop in chunks)


def _prune(network: _Network, pairs: _Pairs) -> tuple[float, _Pairs]:
    """Add the mass of the pairs whose every completion is extreme; drop those with none."""
    distinct, inverse = np.unique(pairs.keys, return_inverse=True)
    nodes, columns = network.nodes(distinct), network.columns[pairs.stage :]
    blocks = range(0, len(nodes), max(1, _CHUNK // (nodes.shape[1] * columns.size)))  # bounded memory for the bounds
    lower = np.concatenate([_lower_bound(nodes[start : start + blocks.step], columns, network.log_factorial) for start in blocks])
    upper = np.concatenate([_upper_bound(nodes[start : start + blocks.step], columns, network.log_factorial) for start in blocks])
    past = pairs.past
    every = past + lower[inverse] >= network.threshold
    log_mass = network.log_mass(nodes, pairs.stage)[inverse[every]]
    accepted = (pairs.weight[every] * np.exp(network.log_constant - past[every] + log_mass)).sum()
    undecided = ~every & (past + upper[inverse] >= network.threshold)
    kept = np.flatnonzero(undecided)
    return accepted, pairs.subset(kept[np.argsort(pairs.keys[kept], kind="stable")])  # grouped by node


@dataclasses.dataclass(frozen=True)
class _Fillings:
    """How many fillings of the next column each distinct node of some pairs (grouped by node) has."""

    nodes: np.ndarray  # the distinct nodes, by key
    pair_starts: np.ndarray  # per node: its first pair, and a final end
    counts: np.ndarray  # per node: its number of fillings
    column: int
    total: int  # pairs of the next stage: sum over the pairs of their node's count

    @classmethod
    def of(cls, network: _Network, pairs: _Pairs) -> _Fillings:
        distinct, pair_starts = np.unique(pairs.keys, return_index=True)
        nodes, column = network.nodes(distinct), int(network.columns[pairs.stage])
        counts = _fillings(network, nodes, column, _MAX_PARTIAL_TABLES, count_only=True)
        pair_starts = np.append(pair_starts, len(pairs.keys))
        return cls(nodes, pair_starts, counts, column, int((counts * np.diff(pair_starts)).sum()))

    def extend(self, network: _Network, pairs: _Pairs, start: int, stop: int) -> _Pairs:
        """The pairs of nodes start:stop, each once per filling of its node: pairs of the next stage."""
        parent, child_keys, cost = _fillings(network, self.nodes[start:stop], self.column, _MAX_PARTIAL_TABLES)
        first = np.concatenate([[0], np.cumsum(self.counts[start:stop])[:-1]])
        chosen = slice(self.pair_starts[start], self.pair_starts[stop])
        node = np.repeat(np.arange(stop - start), np.diff(self.pair_starts[start : stop + 1]))
        degree = self.counts[start:stop][node]
        pair = np.repeat(np.arange(len(node)), degree)
        edge = np.repeat(first[node] - (np.cumsum(degree) - degree), degree) + np.arange(len(pair))
        return _Pairs(pairs.stage + 1, child_keys[edge], pairs.past[chosen][pair] + cost[edge], pairs.weight[chosen][pair])


def _merge(pairs: _Pairs) -> _Pairs:
    """Merge the pairs with the same node and past (equal on the grid): one pair, summed weight."""
    spread = pairs.past - pairs.past.min()
    rounded = np.round(spread * min(_GRID, 2.0**62 / (spread.max() + 1.0))).astype(np.int64)
    order = np.lexsort((rounded, pairs.keys))
    keys, rounded = pairs.keys[order], rounded[order]
    first = np.flatnonzero(np.concatenate([[True], (keys[1:] != keys[:-1]) | (rounded[1:] != rounded[:-1])]))
    return _Pairs(pairs.stage, keys[first], pairs.past[order[first]], np.add.reduceat(pairs.weight[order], first))


def _lower_bound(nodes: np.ndarray, columns: np.ndarray, log_factorial: np.ndarray) -> np.ndarray:
    """A lower bound of min S over the completions of each node: a Lagrangian dual value.

    For any multipliers u (rows), v (columns): S(t) = sum u_i r_i + sum v_j c_j +
    sum_ij [log t_ij! - (u_i + v_j) t_ij] >= sum u_i r_i + sum v_j c_j + sum_ij g(u_i + v_j),
    where g(l) = min over integer 0 <= t <= min(r_i, c_j) of log t! - l t, attained at
    t = floor(exp(l)). Multipliers with exp(u_i + v_j) = (r_i + s K)(c_j + s R) / (M + s R K)
    make floor(exp(u_i + v_j)) nearly a table with the right margins (floor loses 1/2 on
    average), so the bound is close to the dual optimum, which equals min S.
    """
    n_rows, n_columns = nodes.shape[1], columns.size
    total = nodes.sum(axis=1, keepdims=True)
    caps = np.minimum(nodes[:, :, None], columns)
    best = np.full(len(nodes), -np.inf)
    for shift in (0.35, 0.5, 0.65):
        half_log_total = 0.5 * np.log(total + shift * n_rows * n_columns)
        row_multiplier = np.log(nodes + shift * n_columns) - half_log_total
        column_multiplier = np.log(columns + shift * n_rows) - half_log_total
        multiplier = row_multiplier[:, :, None] + column_multiplier[:, None, :]
        cells = np.minimum(np.floor(np.exp(multiplier)), caps).astype(np.int64)
        value = (row_multiplier * nodes).sum(axis=1) + (column_multiplier * columns).sum(axis=1)
        value += (log_factorial[cells] - multiplier * cells).sum(axis=(1, 2))
        best = np.maximum(best, value)
    return best


def _upper_bound(nodes: np.ndarray, columns: np.ndarray, log_factorial: np.ndarray) -> np.ndarray:
    """An upper bound of max S over the completions: drop the row sums or the column sums.

    Without one set of sums the problem splits into lines, each maximising the convex sum
    of log t! by filling the largest caps first (that vector majorises every other).
    """
    by_column = _concentrated(np.broadcast_to(columns, (len(nodes), columns.size)), nodes, log_factorial)
    by_row = _concentrated(nodes, np.broadcast_to(columns, (len(nodes), columns.size)), log_factorial)
    return np.minimum(by_column, by_row)


def _concentrated(amounts: np.ndarray, caps: np.ndarray, log_factorial: np.ndarray) -> np.ndarray:
    """Per node: sum over lines of max sum log t! with sum(t) = amount, 0 <= t <= caps (shared caps)."""
    caps = -np.sort(-caps, axis=-1)[:, None, :]
    before = np.cumsum(caps, axis=-1) - caps
    fill = np.clip(amounts[:, :, None] - before, 0, caps)
    return log_factorial[fill].sum(axis=(1, 2))
