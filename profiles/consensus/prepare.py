"""Canonical form of the inputs: duplicates dropped, every list in one order, flows numbered.

Both the engine and the input digest start from `prepare`, so "same inputs in any order,
with duplicates" is settled once, here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

from profiles.mud.flows import Flow

from .inputs import (
    ConsensusInput,
    ContributorSnapshot,
    ManufacturerProfile,
    ManufacturerStatement,
    ModeratorDecision,
    Observation,
    Vote,
)

T = TypeVar("T")
IndexArray = npt.NDArray[np.intp]
BoolArray = npt.NDArray[np.bool_]


def unique_sorted(items: Iterable[T], key: Callable[[T], str], what: str) -> tuple[T, ...]:
    """Items by id, sorted by id; an exact duplicate is dropped, a different record with the same id is an error."""
    seen: dict[str, T] = {}
    for item in items:
        ident = key(item)
        if ident in seen:
            if seen[ident] != item:
                raise ValueError(f"two different {what} records share the id {ident!r}")
            continue
        seen[ident] = item
    return tuple(seen[ident] for ident in sorted(seen))


class FlowNumbering:
    """Numbers distinct flows in first-seen order, then renumbers them by key.

    Flow hashes are not cached by the dataclass, and a model's observations hold the same
    flows again and again; when the caller passes one Flow instance per distinct flow (as a
    database layer naturally does), the object id finds it without hashing the flow.
    Equal but distinct instances still work, at the price of one hash each.
    """

    def __init__(self) -> None:
        self._by_id: dict[int, int] = {}
        self._by_flow: dict[Flow, int] = {}
        self.flows: list[Flow] = []

    def number(self, flow: Flow) -> int:
        found = self._by_id.get(id(flow))
        if found is not None:
            return found
        found = self._by_flow.get(flow)
        if found is None:
            found = len(self.flows)
            self.flows.append(flow)
            self._by_flow[flow] = found
        self._by_id[id(flow)] = found
        return found

    def numbers(self, flows: frozenset[Flow]) -> IndexArray:
        try:
            return np.fromiter(map(self._by_id.__getitem__, map(id, flows)), dtype=np.intp, count=len(flows))
        except KeyError:
            return np.fromiter((self.number(flow) for flow in flows), dtype=np.intp, count=len(flows))


@dataclass(frozen=True, slots=True)
class Prepared:
    """The inputs in canonical form. Flow columns are numbered in key order (`keys[i]` is column i)."""

    inp: ConsensusInput
    contributors: dict[str, ContributorSnapshot]
    observations: tuple[Observation, ...]
    # membership[i, column]: observation i (id order) holds the flow of that column
    membership: BoolArray
    votes: tuple[Vote, ...]
    decisions: tuple[ModeratorDecision, ...]
    profiles: tuple[ManufacturerProfile, ...]
    profile_columns: tuple[IndexArray, ...]
    statements: tuple[ManufacturerStatement, ...]
    statement_columns: tuple[int, ...]
    flows: tuple[Flow, ...]
    keys: tuple[str, ...]
    column_of_key: dict[str, int]
    # What is derived from the fields above (never from `inp`) and kept for the scopes that
    # share this preparation (`dataclasses.replace(prepared, inp=...)` passes the same dict).
    shared: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


def prepare(inp: ConsensusInput) -> Prepared:
    contributors = unique_sorted(inp.contributors, lambda c: c.id, "contributor")
    observations = unique_sorted(inp.observations, lambda o: o.submission_id, "observation")
    votes = unique_sorted(inp.votes, lambda v: v.id, "vote")
    decisions = unique_sorted(inp.moderator_decisions, lambda d: d.id, "moderator decision")
    profiles = unique_sorted(inp.manufacturer_profiles, lambda p: p.id, "manufacturer profile")
    statements = unique_sorted(inp.manufacturer_statements, lambda s: s.id, "manufacturer statement")
    by_id = {c.id: c for c in contributors}
    for obs in observations:
        if obs.contributor_id not in by_id:
            raise ValueError(f"observation {obs.submission_id}: no snapshot of contributor {obs.contributor_id!r}")
    for vote in votes:
        if vote.contributor_id not in by_id:
            raise ValueError(f"vote {vote.id}: no snapshot of contributor {vote.contributor_id!r}")

    numbering = FlowNumbering()
    per_observation = [numbering.numbers(obs.flows) for obs in observations]
    first_prof = [numbering.numbers(p.flows) for p in profiles]
    first_stmt = [numbering.number(s.flow) for s in statements]

    first_keys = [flow.key for flow in numbering.flows]
    order = sorted(range(len(first_keys)), key=first_keys.__getitem__)
    rank = np.empty(len(order), dtype=np.intp)
    rank[np.asarray(order, dtype=np.intp)] = np.arange(len(order), dtype=np.intp)
    keys = tuple(first_keys[i] for i in order)
    column_of_key = {key: column for column, key in enumerate(keys)}
    if len(column_of_key) != len(keys):
        raise ValueError("two different flows share one key")

    def remap(numbers: IndexArray) -> IndexArray:
        return np.sort(rank[numbers])

    membership = np.zeros((len(observations), len(keys)), dtype=np.bool_)
    if observations:
        lengths = np.fromiter(map(len, per_observation), dtype=np.intp, count=len(observations))
        rows = np.repeat(np.arange(len(observations), dtype=np.intp), lengths)
        membership[rows, rank[np.concatenate(per_observation)]] = True

    return Prepared(
        inp=inp,
        contributors=by_id,
        observations=observations,
        membership=membership,
        votes=votes,
        decisions=decisions,
        profiles=profiles,
        profile_columns=tuple(remap(n) for n in first_prof),
        statements=statements,
        statement_columns=tuple(int(rank[n]) for n in first_stmt),
        flows=tuple(numbering.flows[i] for i in order),
        keys=keys,
        column_of_key=column_of_key,
    )
