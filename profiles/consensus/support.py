"""Steps 1-4: multipliers, support per independence group, opposition and exposure.

Everything is an integer count of milli-units. Each (contributor, flow) term is rounded
once (half to even) and then only integers are added, so the totals do not depend on the
order of anything. The work is one pass over the observations and a few numpy operations
on a (contributors x flows) matrix: linear in contributors x flows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from .inputs import ContributorSnapshot, Vote
from .params import ConsensusParams
from .prepare import IndexArray, Prepared
from .weights import MILLI, age_factor, allow_weight, candidate_weight, firmware_factor, to_milli

Int64Array = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]


@dataclass(slots=True)
class Support:
    """Per flow column: A, K, B, the TL0-inclusive recount, and who counted."""

    a_milli: Int64Array
    k: Int64Array
    # groups with support from a member at params.trusted_level or above (observation or up-vote)
    k_trusted: Int64Array
    b_milli: Int64Array
    candidate_milli: Int64Array
    exposure_milli: int
    in_universe: BoolArray
    # observation index (into Prepared.observations) of each counted observation, id order
    counted: list[int]
    # counted observation x flow membership, transposed: membership[column] is a row mask
    membership: BoolArray
    approved_by_vote: set[int] = field(default_factory=set)
    vote_ids: dict[int, list[str]] = field(default_factory=dict)


A = TypeVar("A", Int64Array, FloatArray)


def reduce_runs(values: A, keys: IndexArray, ufunc: np.ufunc) -> A:
    """Combines the rows of `values` whose `keys` are equal; keys are sorted, the result has
    one row per distinct key, in key order.

    Equal to `ufunc.reduceat(values, starts, axis=0)`, but a run of one row (most
    contributors have one observation, most groups one account) costs a copy, not a
    reduction: one numpy operation per layer of the longest run instead of one per run.
    """
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]]) if len(keys) else np.zeros(0, dtype=np.intp)
    out: A = values[starts].copy()
    lengths = np.diff(np.r_[starts, len(keys)])
    for layer in range(1, int(lengths.max(initial=1))):
        runs = np.flatnonzero(lengths > layer)
        out[runs] = ufunc(out[runs], values[starts[runs] + layer])
    return out


def _group_rows(values: Int64Array, row_groups: IndexArray, n_groups: int) -> Int64Array:
    """Sums rows of `values` into their groups; rows are sorted by group."""
    out: Int64Array = np.zeros((n_groups, *values.shape[1:]), dtype=np.int64)
    if len(row_groups):
        out[np.unique(row_groups)] = reduce_runs(values, row_groups, np.add)
    return out


def _choose_votes(prepared: Prepared, target: str | None, in_universe: BoolArray) -> list[tuple[int, Vote]]:
    """One vote per (voter, flow): the one scoped to the firmware over an all-firmware one.

    Votes outside the firmware scope, on flows nobody observed for it, or by suspended
    accounts do not count.
    """
    chosen: dict[tuple[str, int], Vote] = {}
    for vote in prepared.votes:
        if vote.firmware is not None and vote.firmware != target:
            continue
        column = prepared.column_of_key.get(vote.flow_key)
        if column is None or not in_universe[column]:
            continue
        voter = prepared.contributors[vote.contributor_id]
        if voter.suspended:
            continue
        slot = (vote.contributor_id, column)
        previous = chosen.get(slot)
        if previous is None or (previous.firmware is None and vote.firmware is not None):
            chosen[slot] = vote
        elif (previous.firmware is None) == (vote.firmware is None) and previous.value != vote.value:
            raise ValueError(f"votes {previous.id} and {vote.id} disagree on one flow in one scope")
    return [(column, vote) for (_, column), vote in sorted(chosen.items())]


def compute_support(prepared: Prepared, named: BoolArray, params: ConsensusParams) -> Support:
    """Steps 1-4 for every flow column. The flows decided are those observed for this
    firmware plus `named` (the covering profile's and the applicable statements' flows)."""
    inp = prepared.inp
    contributors = prepared.contributors
    target = inp.resolved_firmware
    n_flows = len(prepared.keys)
    cap = to_milli(params.group_cap)
    position = {fw: i for i, fw in enumerate(inp.context.firmware_order)}

    # Step 1: the multiplier of each observation that counts for this firmware.
    counted: list[int] = []
    multipliers: list[float] = []
    exposures: list[float] = []
    factors: dict[str | None, float] = {}
    for index, obs in enumerate(prepared.observations):
        firmware = obs.known_firmware
        factor = factors.get(firmware)
        if factor is None:
            factor = factors[firmware] = firmware_factor(firmware, target, position, params)
        if factor == 0.0:
            continue
        multiplier = age_factor(obs.last_seen, inp.as_of, params) * factor
        if inp.region is not None and obs.region != inp.region:
            multiplier *= params.region_other_factor
        counted.append(index)
        multipliers.append(multiplier)
        exposures.append(multiplier * min(1.0, obs.window_hours / params.window_normaliser_hours))

    def by_group(cid: str) -> tuple[str, str]:
        return contributors[cid].group, cid

    observers = sorted({prepared.observations[i].contributor_id for i in counted}, key=by_group)
    row_of = {cid: row for row, cid in enumerate(observers)}
    membership = prepared.membership[np.asarray(counted, dtype=np.intp)].reshape(len(counted), n_flows)
    # Each contributor counts once per flow, with its largest multiplier: the maximum over
    # its observations, taken per contributor row after sorting the observations by row.
    obs_rows = np.array([row_of[prepared.observations[i].contributor_id] for i in counted], dtype=np.intp)
    by_row = np.argsort(obs_rows, kind="stable")
    sorted_rows = obs_rows[by_row]
    weighted = membership[by_row] * np.asarray(multipliers, dtype=np.float64)[by_row, None]
    best: FloatArray = reduce_runs(weighted, sorted_rows, np.maximum).reshape(len(observers), n_flows)
    exposure: FloatArray = reduce_runs(np.asarray(exposures, dtype=np.float64)[by_row], sorted_rows, np.maximum)
    in_universe = membership.any(axis=0) | named

    votes = _choose_votes(prepared, target, in_universe)

    groups = sorted(
        {contributors[c].group for c in observers} | {contributors[v.contributor_id].group for _, v in votes}
    )
    group_index = {g: i for i, g in enumerate(groups)}
    row_groups = np.array([group_index[contributors[c].group] for c in observers], dtype=np.intp)

    # Step 2: support per group, capped at 1.0; the TL0-inclusive recount for rule 6.5 alike.
    snapshots: list[ContributorSnapshot] = [contributors[c] for c in observers]
    w_allow = np.array([allow_weight(c, params) for c in snapshots], dtype=np.float64)
    w_candidate = np.array([candidate_weight(c, params) for c in snapshots], dtype=np.float64)
    terms = np.rint(best * w_allow[:, None] * MILLI).astype(np.int64)
    allow = _group_rows(terms, row_groups, len(groups))
    levels = np.array([c.trust_level for c in snapshots], dtype=np.int64)
    trusted_rows = np.flatnonzero(levels >= params.trusted_level)
    trusted = np.zeros(allow.shape, dtype=np.bool_)
    if len(trusted_rows):
        trusted |= _group_rows((terms[trusted_rows] > 0).astype(np.int64), row_groups[trusted_rows], len(groups)) > 0
    # The recount differs only in the rows whose weight differs (TL0): add just those.
    differs = np.flatnonzero(w_candidate != w_allow)
    candidate = allow.copy()
    if len(differs):
        rows = best[differs]
        extra = np.rint(rows * w_candidate[differs, None] * MILLI) - np.rint(rows * w_allow[differs, None] * MILLI)
        candidate += _group_rows(extra.astype(np.int64), row_groups[differs], len(groups))

    def own_term(cid: str, column: int) -> int | None:
        """The voter's own observation term on the flow, if the flow is theirs for this firmware."""
        row = row_of.get(cid)
        if row is None or best[row, column] <= 0.0:
            return None
        return int(np.rint(best[row, column] * w_allow[row] * MILLI))

    support = Support(
        a_milli=np.zeros(n_flows, dtype=np.int64),
        k=np.zeros(n_flows, dtype=np.int64),
        k_trusted=np.zeros(n_flows, dtype=np.int64),
        b_milli=np.zeros(n_flows, dtype=np.int64),
        candidate_milli=np.zeros(n_flows, dtype=np.int64),
        exposure_milli=0,
        in_universe=in_universe,
        counted=counted,
        membership=np.ascontiguousarray(membership.T),
    )

    for column, vote in votes:
        voter = contributors[vote.contributor_id]
        if vote.value != 1:
            continue
        counts = False
        # "Nobody votes on their own flows": on a flow the voter observed, the vote neither
        # adds to the observation nor approves; the voter counts with the larger of the two,
        # so that reporting a flow one had up-voted never lowers its support (invariant 2).
        mine = own_term(vote.contributor_id, column)
        if voter.trust_level >= params.min_vote_level:
            term = to_milli(params.upvote_factor * allow_weight(voter, params)) - (mine or 0)
            if term > 0:
                allow[group_index[voter.group], column] += term
                candidate[group_index[voter.group], column] += term
                if voter.trust_level >= params.trusted_level:
                    trusted[group_index[voter.group], column] = True
                counts = True
        if mine is None and (voter.trust_level >= params.min_approval_level or voter.is_moderator):
            support.approved_by_vote.add(column)
            counts = True
        if counts:
            support.vote_ids.setdefault(column, []).append(vote.id)

    allow = np.minimum(allow, cap)
    support.a_milli = allow.sum(axis=0)
    support.k = (allow > 0).sum(axis=0)
    support.k_trusted = (trusted & (allow > 0)).sum(axis=0)
    support.candidate_milli = np.minimum(candidate, cap).sum(axis=0)

    # Step 3: opposition, from TL2+ down-votes of groups that do not support the flow.
    opposition: dict[tuple[int, int], int] = {}
    for column, vote in votes:
        voter = contributors[vote.contributor_id]
        if vote.value != -1 or voter.trust_level < params.min_vote_level:
            continue
        if own_term(vote.contributor_id, column) is not None:
            continue
        group = group_index[voter.group]
        if allow[group, column] > 0:
            continue
        term = to_milli(allow_weight(voter, params))
        if term > 0:
            opposition[group, column] = opposition.get((group, column), 0) + term
            support.vote_ids.setdefault(column, []).append(vote.id)
    for (_, column), total in opposition.items():
        support.b_milli[column] += min(total, cap)

    # Step 4: exposure, from every group with an observation that counts for this firmware,
    # by its members at params.exposure_min_level or above.
    w_exposure = np.where(levels >= params.exposure_min_level, w_allow, 0.0)
    exposure_terms = np.rint(exposure * w_exposure * MILLI).astype(np.int64)
    support.exposure_milli = int(np.minimum(_group_rows(exposure_terms, row_groups, len(groups)), cap).sum())
    return support
