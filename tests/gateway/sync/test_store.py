"""gateway.sync.store: the two layouts, rename-only writes, the state file."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.sync.store import State, Store, write_atomically


def test_the_plain_layout_mirrors_the_urls(tmp_path: Path) -> None:
    store = Store(tmp_path)
    assert store.write("mud/acme/cam-1.json", b"{}", b"sig")
    assert store.write("mud/acme/cam-1/1.0.json", b"{1}", b"sig1")
    assert (tmp_path / "acme/cam-1.json").read_bytes() == b"{}"
    assert (tmp_path / "acme/cam-1.p7s").read_bytes() == b"sig"
    assert (tmp_path / "acme/cam-1/1.0.p7s").read_bytes() == b"sig1"
    assert sorted(store.paths()) == ["mud/acme/cam-1.json", "mud/acme/cam-1/1.0.json"]
    store.remove("mud/acme/cam-1.json")
    assert not (tmp_path / "acme/cam-1.json").exists() and not (tmp_path / "acme/cam-1.p7s").exists()


def test_the_osmud_layout_is_flat_and_keeps_latest_files_only(tmp_path: Path) -> None:
    store = Store(tmp_path, "osmud")
    assert store.write("mud/acme/cam-1.json", b"{}", b"sig")
    assert not store.write("mud/acme/cam-1/1.0.json", b"{}", b"sig")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cam-1.json", "cam-1.p7s"]


@pytest.mark.parametrize("path", ["../etc/passwd", "mud/../../x.json", "mud/acme/", "other/a/b.json"])
def test_a_path_outside_the_layout_is_refused(tmp_path: Path, path: str) -> None:
    with pytest.raises(ValueError):
        Store(tmp_path).local(path)


def test_leftovers_of_a_killed_write_are_cleaned_and_never_listed(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.write("mud/acme/cam-1.json", b"{}", b"sig")
    (tmp_path / "acme" / ".mudhub-sync-abc.tmp").write_bytes(b"{hal")
    assert list(store.paths()) == ["mud/acme/cam-1.json"]
    assert store.clean_temporaries() == 1
    assert sorted(p.name for p in (tmp_path / "acme").iterdir()) == ["cam-1.json", "cam-1.p7s"]


def test_the_state_survives_a_round_trip(tmp_path: Path) -> None:
    state = State.load(tmp_path / "s" / "state.json")
    assert state.cursor is None and state.index_version == 0
    state.cursor, state.index_version, state.announced = 41, 7, ["PEM"]
    state.save()
    again = State.load(tmp_path / "s" / "state.json")
    assert (again.cursor, again.index_version, again.announced) == (41, 7, ["PEM"])


def test_write_atomically_replaces_the_whole_file(tmp_path: Path) -> None:
    target = tmp_path / "f.json"
    write_atomically(target, b"old")
    write_atomically(target, b"new")
    assert target.read_bytes() == b"new" and [p.name for p in tmp_path.iterdir()] == ["f.json"]
