"""The exact r x c Fisher test (stats._fisher_network) against R's fisher.test (tests/reference/fisher_rxc.R).

No timings here: benchmarks/bench_fisher.py times the birthwt table against R's recorded time.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from conftest import load_reference
from scipy.special import gammaln

from stsanalysis import InputError
from stsanalysis.stats import _fisher_network as network_module
from stsanalysis.stats.contingency import fisher_exact

REFERENCE = load_reference("fisher_rxc")


@pytest.mark.parametrize("name", sorted(REFERENCE["tables"]))
def test_fisher_exact_matches_fisher_test(name):
    # R: fisher.test(m, workspace = 2e7)$p.value  -> fisher_rxc.R (birthwt, sparse, zeros,
    # 2 x 8, 5 x 5 with n ~ 60, ties, the stats_table_*.csv tables)
    expected = REFERENCE["tables"][name]
    result = fisher_exact(np.array(expected["counts"]))
    assert result.p == pytest.approx(expected["p"], rel=1e-9)
    assert result.p <= 1.0


def test_fisher_exact_clips_p_at_one_as_r():
    # R: fisher.test(matrix(3, 2, 3))$p.value is 1 up to rounding; the sum is clipped at 1
    assert fisher_exact(np.array(REFERENCE["tables"]["uniform_2x3"]["counts"])).p == 1.0


def test_fisher_exact_does_not_depend_on_the_order_or_orientation_of_the_table():
    counts = np.array(REFERENCE["tables"]["table_5x5_n54"]["counts"])
    p = fisher_exact(counts).p
    shuffled = counts[[3, 0, 4, 2, 1]][:, [2, 4, 0, 1, 3]]
    assert fisher_exact(shuffled).p == pytest.approx(p, rel=1e-12)
    assert fisher_exact(counts.T).p == pytest.approx(p, rel=1e-12)


def test_fisher_exact_refuses_a_table_that_would_take_minutes():
    # R: fisher.test(m, workspace = 2e8) had not finished after 100 s on the development
    # machine (and stops with a workspace error at the default workspace)
    counts = np.array(
        [[1, 2, 0, 4, 0, 1], [0, 0, 2, 5, 0, 6], [2, 1, 1, 3, 3, 3], [3, 0, 2, 4, 2, 1], [3, 3, 1, 1, 4, 1], [2, 1, 12, 2, 0, 3]]
    )
    with pytest.raises(InputError, match=r"the 6 x 6 table with n = 79 has too many possible tables.*chi_square"):
        fisher_exact(counts)


def enumerated_p(table: np.ndarray) -> float:
    """Fisher's p by listing every table with the margins of ``table`` (small tables only)."""
    rows, columns = table.sum(axis=1), table.sum(axis=0)
    first_columns = [column for column in itertools.product(*(range(min(r, columns[0]) + 1) for r in rows)) if sum(column) == columns[0]]

    def completions(row_sums, remaining_columns):
        if len(remaining_columns) == 1:
            yield [row_sums]
            return
        for column in itertools.product(*(range(min(r, remaining_columns[0]) + 1) for r in row_sums)):
            if sum(column) == remaining_columns[0]:
                for tail in completions([r - c for r, c in zip(row_sums, column)], remaining_columns[1:]):
                    yield [list(column), *tail]

    log_constant = gammaln(rows + 1).sum() + gammaln(columns + 1).sum() - gammaln(table.sum() + 1)
    threshold = gammaln(table + 1).sum() - network_module.FEXACT_LOG_TOLERANCE
    p = 0.0
    for first in first_columns:
        for tail in completions([r - c for r, c in zip(rows, first)], list(columns[1:])):
            score = gammaln(np.array([list(first), *tail]) + 1).sum()
            p += np.exp(log_constant - score) if score >= threshold else 0.0
    return min(1.0, p)


def random_table(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    shape = [(2, 6), (3, 3), (3, 5), (4, 3), (4, 4), (5, 3)][seed % 6]
    table = rng.integers(0, 4, size=shape)
    table[table.sum(axis=1) == 0, 0] += 1
    table[0, table.sum(axis=0) == 0] += 1
    return table


@pytest.mark.parametrize("forward_from", [0, 1, 2, 3, 99])
@pytest.mark.parametrize("seed", range(4))
def test_every_meeting_stage_gives_the_enumerated_p(seed, forward_from, monkeypatch):
    # Force the completions to be listed backward only down to stage ``forward_from``
    # (0: as far as possible, 99: never), so that forward extension with pruning and
    # merging, chunked extension and backward lists are each exercised.
    extend_futures = network_module._extend_futures

    def limited(network, futures, limit):
        if futures.stage - 1 < forward_from:
            raise network_module._TooLarge
        return extend_futures(network, futures, np.inf if forward_from == 0 else limit)

    monkeypatch.setattr(network_module, "_extend_futures", limited)
    monkeypatch.setattr(network_module, "_CHUNK", 5)
    table = random_table(seed + 10 * forward_from)
    assert network_module.fisher_network_p(table) == pytest.approx(enumerated_p(table), rel=1e-10)


@pytest.mark.parametrize("seed", range(6))
def test_bounds_enclose_the_extreme_completions(seed):
    # The pruning is exact only if the bounds are valid: lower <= min S <= max S <= upper
    # over all tables with the node's row sums and the remaining column sums.
    rng = np.random.default_rng(seed)
    rows = np.sort(rng.integers(1, 7, size=3))
    columns = -np.sort(-rng.multinomial(rows.sum() - 3, np.ones(3) / 3) - 1)
    scores = []
    for first in itertools.product(*(range(min(r, columns[0]) + 1) for r in rows)):
        for second in itertools.product(*(range(min(r - f, columns[1]) + 1) for r, f in zip(rows, first))):
            if sum(first) == columns[0] and sum(second) == columns[1]:
                third = rows - np.array(first) - np.array(second)
                scores.append(gammaln(np.array([first, second, third]) + 1).sum())
    log_factorial = gammaln(np.arange(rows.sum() + 1) + 1.0)
    lower = network_module._lower_bound(rows[None, :], columns, log_factorial)[0]
    upper = network_module._upper_bound(rows[None, :], columns, log_factorial)[0]
    assert lower <= min(scores) + 1e-12
    assert max(scores) <= upper + 1e-12
    assert min(scores) - lower < 0.5  # the dual bound is close: it decides most pairs
