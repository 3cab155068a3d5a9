"""The part of a search PostgreSQL's trigram index looks up: its rarest word (#19)."""

from __future__ import annotations

from controlplane.fleet.search_part import frequencies, parts, rarest_part, word_trigrams


def test_parts_are_words_with_the_separators_around_them() -> None:
    found = parts("customer-4242@example")
    assert [part.text for part in found] == ["customer-", "-4242@", "@example"]
    # bounded by '-' and '@': padded both sides; at the needle's ends: not padded there
    assert found[1].trigrams == {"  4", " 42", "424", "242", "42 "}
    assert found[0].trigrams == word_trigrams("customer", pad_left=False)
    assert "  c" not in found[0].trigrams and "er " in found[0].trigrams


def test_the_rarest_word_is_looked_up() -> None:
    documents = [f"['ORD-{n}', 'customer-{n % 7}@example.com']" for n in range(100)]
    shares = frequencies(documents)
    assert shares["cus"] == 1.0 and shares["exa"] == 1.0
    assert rarest_part("customer-4@example", shares) == "-4@"
    assert rarest_part("ORD-42', 'customer", shares) == "-42'"


def test_the_whole_needle_when_nothing_is_gained() -> None:
    shares = frequencies(["ValueError('bad row')", "ValueError('worse row')"])
    assert rarest_part("ValueError", shares) is None  # one word
    assert rarest_part("bad row", {}) is None  # no sample yet
    assert rarest_part("ValueError('bad", {t: 1.0 for t in shares}) is None  # all common
    assert rarest_part("ab", shares) is None
