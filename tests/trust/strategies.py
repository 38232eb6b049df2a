"""Hypothesis strategies for ledger events and requests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import strategies as st

from profiles.trust import Event, Request

START = datetime(2026, 1, 1, tzinfo=UTC)
SPAN_DAYS = 400

times = st.integers(min_value=0, max_value=SPAN_DAYS * 86400).map(lambda s: START + timedelta(seconds=s))
points = st.sampled_from([0.0, 0.1, 0.25, 1.0, 2.0, 10.0]) | st.floats(min_value=0, max_value=20, allow_nan=False)

events = st.builds(Event, at=times, delta_r=points, delta_s=points, strike=st.booleans())
positive_events = st.builds(Event, at=times, delta_r=points.filter(lambda x: x > 0))
negative_events = st.builds(Event, at=times, delta_s=points.filter(lambda x: x > 0), strike=st.booleans())

# Requests packed into a few days so that the caps bite.
request_times = st.integers(min_value=0, max_value=3 * 86400).map(lambda s: START + timedelta(seconds=s))
requests = st.builds(
    Request,
    at=request_times,
    delta_r=st.sampled_from([0.1, 0.25, 1.0, 3.0]),
    delta_s=st.sampled_from([0.0, 0.1, 2.0]),
    flow_confirmation=st.booleans(),
    model=st.sampled_from([1, 2, 3]),
)
END = START + timedelta(days=SPAN_DAYS + 1)
