"""The edit distance of "did you mean" (network/search/backend.edit_distance): the restricted Damerau-Levenshtein
distance (optimal string alignment), RapidFuzz's, checked against the dynamic programme it replaced, here as the
reference: the same distance up to the limit, `limit` + 1 above it, in any script."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from network.search.backend import _closest_first, edit_distance


def reference(a: str, b: str) -> int:
    """Optimal string alignment: insertions, deletions, substitutions and adjacent transpositions cost one each,
    no substring edited twice."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[-1]


@pytest.mark.parametrize(("a", "b", "distance"), [
    ("laundring", "laundering", 1),  # a letter left out
    ("extradtion", "extradition", 1),
    ("corupption", "corruption", 2),  # a letter doubled in the wrong place: two edits
    ("trafficing", "trafficking", 1),
    ("ab", "ba", 1),  # an adjacent transposition is one edit
    ("ca", "abc", 3),  # optimal string alignment: the transposed pair is not edited again (Damerau proper: 2)
    ("экстрадиция", "экстрадицыя", 1),
    ("تسليم", "تسلييم", 1),
    ("引渡", "引渡请求", 2),
    ("", "abc", 3),
    ("same", "same", 0),
])
def test_known_distances(a, b, distance):
    assert reference(a, b) == distance
    for limit in (1, 2, 3):
        assert edit_distance(a, b, limit) == (distance if distance <= limit else limit + 1)


_WORDS = st.text(alphabet=st.sampled_from("aeiounrstlçéñжиاب引渡 -'"), max_size=12)


@settings(max_examples=400, deadline=None)
@given(a=_WORDS, b=_WORDS, limit=st.integers(min_value=0, max_value=3))
def test_the_distance_is_the_reference_up_to_the_limit(a, b, limit):
    expected = reference(a, b)
    assert edit_distance(a, b, limit) == (expected if expected <= limit else limit + 1)


@settings(max_examples=200, deadline=None)
@given(word=_WORDS, edited=st.lists(_WORDS, max_size=8))
def test_the_closest_first_are_the_references(word, edited):
    """Candidates within 1 edit of a short word (under 6 letters), 2 of a longer one, closest first, then in the
    order given."""
    limit = 1 if len(word) < 6 else 2
    unique = [c for c in dict.fromkeys(edited) if c != word]
    expected = [c for _d, _i, c in sorted((reference(word, c), i, c) for i, c in enumerate(unique))
                if reference(word, c) <= limit]
    assert _closest_first(word, edited) == expected
