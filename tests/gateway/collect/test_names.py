"""DNS answers to peer names: the question names the peer, for the TTL window of its chain."""

from __future__ import annotations

from gateway.collect.names import GRACE_SECONDS, Answer, NameTable


def test_a_name_is_valid_for_its_window_and_the_newest_answer_wins() -> None:
    table = NameTable()
    table.add([Answer(100.0, "a.example.com", "192.0.2.1", 160.0)])
    table.add([Answer(130.0, "b.example.com", "192.0.2.1", 190.0)])
    assert table.name("192.0.2.1", 120.0) == "a.example.com"
    assert table.name("192.0.2.1", 140.0) == "b.example.com"
    assert table.name("192.0.2.1", 190.0 + GRACE_SECONDS + 1) is None
    assert table.name("192.0.2.2", 140.0) is None


def test_without_a_time_the_newest_name_is_taken_even_after_its_window_was_swept() -> None:
    table = NameTable()
    table.add([Answer(float(n), f"n{n}.example.com", f"192.0.2.{n % 200}", float(n) + 5) for n in range(5000)])
    assert len(table) < 5000  # expired windows are swept as the clock moves on
    assert table.name("192.0.2.7", None) == "n4807.example.com"
