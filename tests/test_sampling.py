"""The draw's maths, quotas, allocation and the weighted estimate (pure: no store)."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sefton_qa.domain import sampling
from sefton_qa.domain.sampling import Quota, StratumResult


def test_the_key_is_sha256_of_the_documented_bytes():
    key = sampling.sort_key("12345", "team:3", "  lcs-000042 ")
    assert key == hashlib.sha256(b"12345\x00team:3\x00LCS-000042").digest()


def test_the_order_is_by_the_key_and_ignores_the_input_order_and_spelling():
    refs = [f"LCS-{i:06d}" for i in range(50)]
    a = sampling.order_stratum("7", "team:1", refs)
    b = sampling.order_stratum("7", "team:1", [r.lower() + " " for r in reversed(refs)])
    assert a == b == sorted(refs, key=lambda r: hashlib.sha256(
        f"7\x00team:1\x00{r}".encode()).digest())
    assert sampling.order_stratum("8", "team:1", refs) != a  # another seed, another order
    assert sampling.order_stratum("7", "team:2", refs) != a  # another stratum, another order


def test_a_known_draw_for_a_seed_never_changes():
    """Pinned: the same seed and cases give these cases, on any machine and Python (the
    expected order was worked out with coreutils: printf '2024\\0team:1\\0LCS-000018' |
    sha256sum, for each case, then sort)."""
    refs = [f"LCS-{i:06d}" for i in range(1, 21)]
    result = sampling.draw_stratum("2024", "team:1", refs, Quota(3, 1))
    expected = sampling.order_stratum("2024", "team:1", refs)
    assert [d.reference for d in result.sample] == expected[:4]
    assert [d.reference for d in result.reserves] == expected[4:6]
    assert [d.audit_type for d in result.sample] == ["deep_dive"] * 3 + ["dip_sample"]
    assert [d.rank for d in result.sample + result.reserves] == [1, 2, 3, 4, 5, 6]
    assert [d.reference for d in result.sample] == \
        ["LCS-000018", "LCS-000019", "LCS-000011", "LCS-000009"]
    assert [d.reference for d in result.reserves] == ["LCS-000013", "LCS-000001"]


@pytest.mark.parametrize("n, reserves", [(0, 0), (1, 2), (4, 2), (8, 2), (9, 3), (12, 3),
                                         (13, 4), (40, 10)])
def test_reserves_are_a_quarter_rounded_up_and_at_least_two(n, reserves):
    assert sampling.reserves_for(n) == reserves


def test_a_small_stratum_gives_what_it_has_sample_first():
    result = sampling.draw_stratum("1", "team:1", ["A", "B", "C"], Quota(2, 0))
    assert len(result.sample) == 2 and len(result.reserves) == 1 and result.short == 0
    result = sampling.draw_stratum("1", "team:1", ["A", "B"], Quota(4, 0))
    assert len(result.sample) == 2 and result.reserves == () and result.short == 2


@given(st.dictionaries(st.sampled_from([f"team:{i}" for i in range(6)]),
                       st.sets(st.from_regex(r"[A-Z]{2}-[0-9]{3}", fullmatch=True),
                               max_size=40), max_size=6),
       st.integers(0, 8), st.integers(0, 3), st.integers(0, 2**64))
@settings(max_examples=150, deadline=None)
def test_strata_sizes_and_reserves_over_random_caseloads(population, deep, dip, seed):
    quotas = {s: Quota(deep, dip) for s in population}
    result = sampling.draw(str(seed), population, quotas)
    for stratum, refs in population.items():
        got = result[stratum]
        n = min(deep + dip, len(refs))
        assert len(got.sample) == n
        assert len(got.reserves) == min(sampling.reserves_for(deep + dip), len(refs) - n)
        chosen = [d.reference for d in got.sample + got.reserves]
        assert len(set(chosen)) == len(chosen) and set(chosen) <= refs  # no replacement
        assert sum(d.audit_type == "deep_dive" for d in got.sample) == min(deep, n)
        # the same draw again is the same
        assert sampling.draw(str(seed), population, quotas)[stratum] == got


def test_largest_remainder_worked_example():
    # 10 audits over 300, 100 and 50 cases: 6.67, 2.22, 1.11 → 6, 2, 1 and one left over,
    # which goes to the largest remainder (0.67).
    assert sampling.largest_remainder(10, {"a": 300, "b": 100, "c": 50}) == \
        {"a": 7, "b": 2, "c": 1}
    # ties in the remainder go to the larger stratum, then by key
    assert sampling.largest_remainder(1, {"a": 1, "b": 1}) == {"a": 1, "b": 0}
    assert sampling.largest_remainder(3, {"a": 0, "b": 0}) == {"a": 0, "b": 0}


@given(st.integers(0, 200), st.dictionaries(st.text(min_size=1, max_size=3),
                                            st.integers(0, 500), min_size=1, max_size=8))
def test_largest_remainder_adds_up_and_stays_within_one_of_the_exact_share(total, sizes):
    shares = sampling.largest_remainder(total, sizes)
    whole = sum(sizes.values())
    if whole == 0:
        assert set(shares.values()) == {0}
        return
    assert sum(shares.values()) == total
    for k, s in sizes.items():
        assert abs(shares[k] - total * s / whole) < 1


def test_the_weighted_estimate_worked_example():
    """Issue 19: two teams of 300 and 100 open cases, 10 audited in each, 2 and 6 good."""
    e = sampling.weighted_estimate([StratumResult(300, 10, 2), StratumResult(100, 10, 6)])
    assert round(100 * e.share, 1) == 30.0
    assert round(100 * e.unweighted, 1) == 40.0
    assert round(100 * e.standard_error, 1) == 10.6
    assert round(e.effective_n, 1) == 18.8
    assert (round(100 * e.low, 1), round(100 * e.high, 1)) == (14.2, 52.6)


def test_a_proportional_sample_weights_to_its_plain_share():
    e = sampling.weighted_estimate([StratumResult(200, 10, 5), StratumResult(100, 5, 1)])
    assert e.share == pytest.approx(e.unweighted)


def test_the_estimate_with_nothing_to_measure():
    e = sampling.weighted_estimate([StratumResult(10, 0, 0)])
    assert (e.low, e.high, e.audited) == (0.0, 1.0, 0)
    e = sampling.weighted_estimate([StratumResult(10, 4, 4)])  # no variance: Wilson on n
    assert e.share == 1.0 and e.effective_n is None and e.high == 1.0 and e.low < 1.0
    with pytest.raises(ValueError):
        sampling.weighted_estimate([StratumResult(3, 4, 1)])


# -- allocation -------------------------------------------------------------------------------
def test_allocation_without_rules_is_even():
    result = sampling.allocate([(i, frozenset()) for i in range(10)], ["a", "b", "c"])
    counts = [list(result.values()).count(a) for a in "abc"]
    assert sorted(counts) == [3, 3, 4]


def test_allocation_evens_counts_through_a_chain_of_moves():
    """a may take only case 1 and 2; b may take 1, 2 and 3; c only 3. Greedy alone would give
    a two (or b two and c none): the chain a → b → c evens them."""
    cases = [(1, frozenset({"c"})), (2, frozenset({"c"})), (3, frozenset({"a"}))]
    result = sampling.allocate(cases, ["a", "b", "c"])
    assert sorted(result.values()) == ["a", "b", "c"]


def test_allocation_respects_what_a_case_forbids():
    cases = [(1, frozenset({"a"})), (2, frozenset({"a", "b"})), (3, frozenset({"a", "b", "c"}))]
    result = sampling.allocate(cases, ["a", "b", "c"])
    assert result == {1: "b", 2: "c", 3: None}


@given(st.lists(st.frozensets(st.integers(0, 5), max_size=4), max_size=40),
       st.integers(1, 6))
@settings(max_examples=200, deadline=None)
def test_allocation_over_random_rules(forbidden, n_auditors):
    auditors = list(range(n_auditors))
    cases = list(enumerate(forbidden))
    result = sampling.allocate(cases, auditors)
    counts = {a: 0 for a in auditors}
    for key, banned in cases:
        got = result[key]
        allowed = [a for a in auditors if a not in banned]
        if not allowed:
            assert got is None
            continue
        assert got in allowed  # never a forbidden auditor
        counts[got] += 1
    # no chain of allowed moves joins an auditor to one holding two or more fewer: counts
    # differ by more than one only where the rules leave no way to even them
    for start in auditors:
        reach, frontier = {start}, [start]
        while frontier:
            holder = frontier.pop()
            for key, banned in cases:
                if result[key] == holder:
                    for a in auditors:
                        if a not in banned and a not in reach:
                            reach.add(a)
                            frontier.append(a)
        assert all(counts[start] - counts[a] < 2 for a in reach), (start, reach, counts)
    if all(not banned & set(auditors) for banned in forbidden):  # no rule in the way
        assert max(counts.values()) - min(counts.values()) <= 1
