"""Path canonicalisation: what the route table matches is what the upstream acts on."""

from __future__ import annotations

import pytest

from strangler_proxy.paths import PathNotCanonical, canonical


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("/api/v1/predictions/../models/1/promote", "/api/v1/models/1/promote"),
        ("/api/v1/predictions/%2e%2e/models/1/promote", "/api/v1/models/1/promote"),
        ("/api/v1/predictions/%2E./models", "/api/v1/models"),
        ("/api/v1/./predictions", "/api/v1/predictions"),
        ("/a/b/..", "/a/"),
        ("/a/b/.", "/a/b/"),
        ("/../../etc/passwd", "/etc/passwd"),
        ("/..", "/"),
    ],
)
def test_dot_segments_are_removed(raw: str, expected: str) -> None:
    normal = canonical(raw, raw.encode())
    assert normal is not None
    assert normal == (expected, expected.encode())


@pytest.mark.parametrize(
    "raw",
    ["/api/v1/predictions", "/api/v1/predictions/", "/a.b/c..d/.e", "/api/v1/x%20y", "/"],
)
def test_canonical_paths_pass_untouched(raw: str) -> None:
    assert canonical(raw, raw.encode()) is None


def test_encoded_characters_other_than_dots_stay_encoded_for_the_upstream() -> None:
    assert canonical("/a/../b c", b"/a/../b%20c") == ("/b c", b"/b%20c")


@pytest.mark.parametrize(
    "raw",
    [
        b"/api/v1/predictions%2f..%2fmodels",
        b"/api/v1/predictions%2F1",
        b"/api/v1/predictions%5c1",
        b"/api/v1\\predictions",
        b"/api/v1/%00",
    ],
)
def test_ambiguous_separators_are_refused(raw: bytes) -> None:
    with pytest.raises(PathNotCanonical) as caught:
        canonical(raw.decode("latin-1"), raw)
    assert caught.value.status == 400


def test_without_a_raw_path_the_decoded_one_is_used() -> None:
    assert canonical("/a/../b", None) == ("/b", b"/b")
