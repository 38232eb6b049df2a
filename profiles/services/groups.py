"""Independence groups: accounts that are not independent count once (CONSENSUS.md).

Evidence that two accounts belong together is recorded as a GroupMerge with its reason; the
groups are the connected components of those merges, and each account's `group_key` names
its component (empty for an account alone), which is what the consensus engine reads.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta
from itertools import combinations

from django.db import transaction
from django.db.models import Q

from profiles.models import Contributor, GroupMerge, Submission, Vote
from profiles.selectors.supporters import supporters_by_flow

# Backing the same rare flows (seen in at most RARE_SUPPORTERS active submissions of a model)
# this many times is not a coincidence.
RARE_SUPPORTERS = 3
RARE_FLOWS_TO_MERGE = 3


def _merge(a: int, b: int, reason: str, detail: str = "") -> bool:
    if a == b:
        return False
    low, high = sorted((a, b))
    _, created = GroupMerge.objects.get_or_create(a_id=low, b_id=high, reason=reason, defaults={"detail": detail[:300]})
    return created


def _merge_chain(ids: Iterable[int], reason: str, detail: str) -> int:
    """Merge a set of accounts by linking each to the lowest: a star, not every pair."""
    members = sorted(set(ids))
    return sum(_merge(members[0], other, reason, detail) for other in members[1:])


class _Components:
    def __init__(self) -> None:
        self.parent: dict[int, int] = {}

    def find(self, x: int) -> int:
        root = x
        while self.parent.get(root, root) != root:
            root = self.parent[root]
        while self.parent.get(x, x) != root:  # path compression
            self.parent[x], x = root, self.parent[x]
        return root

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


@transaction.atomic
def groups_rebuild(*, around: Iterable[int] | None = None) -> int:
    """Recompute group keys from the merges: of every account, or of the components that
    contain `around`. Returns how many accounts changed group."""
    merges = GroupMerge.objects.values_list("a_id", "b_id")
    if around is not None:
        # Only the components touching these accounts: walk the merge graph outwards.
        frontier, seen = set(around), set(around)
        while frontier:
            edges = list(merges.filter(Q(a_id__in=frontier) | Q(b_id__in=frontier)))
            frontier = {x for edge in edges for x in edge} - seen
            seen |= frontier
        merges = merges.filter(a_id__in=seen)
        scope = Contributor.objects.filter(pk__in=seen)
    else:
        scope = Contributor.objects.all()
    components = _Components()
    for a, b in merges.iterator(chunk_size=5000):
        components.union(a, b)
    grouped = {components.find(x) for x in list(components.parent)}
    changed = []
    for person in scope.only("id", "group_key").iterator(chunk_size=5000):
        root = components.find(person.pk)
        key = f"g{root}" if root in grouped else ""
        if person.group_key != key:
            person.group_key = key
            changed.append(person)
    Contributor.objects.bulk_update(changed, ["group_key"], batch_size=1000)
    return len(changed)


def merge_collector(*, contributor_id: int, collector_hash: str) -> bool:
    """Accounts whose submissions came from one collector installation are one observer."""
    others = set(
        Submission.objects.filter(collector_hash=collector_hash).values_list("contributor_id", flat=True).distinct()
    )
    others.add(contributor_id)
    if len(others) < 2 or not _merge_chain(others, GroupMerge.Reason.COLLECTOR, "one collector installation"):
        return False
    groups_rebuild(around=others)
    return True


def merge_signup_network(*, contributor_id: int, network: str) -> bool:
    others = set(Contributor.objects.filter(signup_network=network).values_list("pk", flat=True))
    others.add(contributor_id)
    if len(others) < 2 or not _merge_chain(others, GroupMerge.Reason.SIGNUP_NETWORK, f"signed up from {network}"):
        return False
    groups_rebuild(around=others)
    return True


def merges_detect(*, since: datetime | None = None) -> int:
    """The nightly pass over behaviour: mutual up-votes and co-backed rare flows. Returns the
    number of new merges (the groups are rebuilt when there is any)."""
    made = 0
    models = Submission.objects.filter(status=Submission.Status.ACTIVE)
    if since is not None:
        models = models.filter(created_at__gte=since - timedelta(days=30))
    up_on: dict[int, set[int]] = defaultdict(set)  # voter -> contributors whose flows they up-voted
    pair_rare: dict[tuple[int, int], int] = defaultdict(int)
    for device_model_id in models.values_list("device_model_id", flat=True).distinct():
        supporters = supporters_by_flow(device_model_id)
        votes = Vote.objects.filter(device_model_id=device_model_id, value=1, voided_at__isnull=True)
        for voter, flow_id in votes.values_list("voter_id", "flow_id"):
            up_on[voter] |= supporters.get(flow_id, set()) - {voter}
        for backers in supporters.values():
            if 2 <= len(backers) <= RARE_SUPPORTERS:
                for pair in combinations(sorted(backers), 2):
                    pair_rare[pair] += 1
    for voter, backed in up_on.items():
        for other in backed:
            if voter < other and voter in up_on.get(other, set()):
                made += _merge(voter, other, GroupMerge.Reason.MUTUAL_VOTES, "up-voted each other's flows")
    for (a, b), count in pair_rare.items():
        if count >= RARE_FLOWS_TO_MERGE:
            made += _merge(a, b, GroupMerge.Reason.RARE_FLOWS, f"backed the same {count} rare flows")
    if made:
        groups_rebuild()
    return made
