from livetranslate.translation import Glossary
from livetranslate.translation.glossary import protect


def test_protect_and_restore_round_trip():
    g = Glossary(terms={"standup": {"es": "reunión diaria"}, "OKR": {"es": "OKR"}}, keep=["Alice"])
    p = protect("Alice moved the Standup; OKRs and the OKR stay.", g, "es")
    assert "Alice" not in p.text and "standup" not in p.text.lower()
    assert "OKRs" in p.text  # whole words only
    assert p.restore(p.text.upper()) == "ALICE MOVED THE reunión diaria; OKRS AND THE OKR STAY.".replace(
        "ALICE", "Alice"
    )


def test_terms_without_the_target_language_are_left_alone():
    g = Glossary(terms={"standup": {"fr": "point"}})
    assert protect("The standup.", g, "es").text == "The standup."


def test_session_glossary_goes_over_the_default():
    default = Glossary(terms={"standup": {"es": "daily"}}, keep=["Acme"])
    merged = default.merged(Glossary(terms={"standup": {"es": "reunión diaria", "fr": "point"}}, keep=["Alice"]))
    assert merged.terms["standup"] == {"es": "reunión diaria", "fr": "point"}
    assert merged.keep == ["Acme", "Alice"]
    assert default.terms["standup"] == {"es": "daily"}


def test_the_longest_entry_wins_and_names_keep_their_case():
    g = Glossary(terms={"stand": {"es": "puesto"}, "standup meeting": {"es": "reunión diaria"}}, keep=["Bill"])
    found = g.entries_in("The Standup Meeting: Bill pays the bill at the stand.", "es")
    assert found == [("Standup Meeting", "reunión diaria", "term"), ("Bill", "Bill", "keep"), ("stand", "puesto", "term")]


def test_a_glossary_is_bounded_in_entries_and_size():
    import pytest
    from pydantic import TypeAdapter, ValidationError

    from livetranslate.translation.glossary import MAX_BYTES, MAX_ENTRIES, GlossaryInput

    given = TypeAdapter(GlossaryInput).validate_python
    given({"terms": {f"term{i}": {"es": f"t{i}"} for i in range(MAX_ENTRIES)}})  # the largest allowed
    with pytest.raises(ValidationError, match=f"at most {MAX_ENTRIES}"):
        given({"terms": {f"term{i}": {"es": "x"} for i in range(MAX_ENTRIES)}, "keep": ["Acme"]})
    with pytest.raises(ValidationError, match="KB"):
        given({"terms": {f"term{i}": {"es": "x" * 400} for i in range(MAX_BYTES // 400)}})
    with pytest.raises(ValidationError, match="longer than"):
        Glossary(keep=["x" * 201])
    big = Glossary(terms={f"a{i}": {"es": "x"} for i in range(MAX_ENTRIES)})
    merged = big.merged(Glossary(terms={f"b{i}": {"es": "y"} for i in range(10)}))  # each part was checked
    assert merged.over_bounds() is not None and len(merged.entries_in("a1 and b2", "es")) == 2
    stored = Glossary.stored({"terms": {f"t{i}": {"es": "x"} for i in range(3000)}})  # from before the bounds
    assert len(stored.entries_in("t1 t2999", "es")) == 2


def test_case_folding_that_lower_does_not_match_still_finds_its_entry():
    g = Glossary(terms={"Istanbul": {"es": "Estambul"}, "µs": {"es": "microsegundos"}})
    assert [f for _, f, _ in g.entries_in("İstanbul in 5 Μs", "es")] == ["Estambul", "microsegundos"]


def test_matching_the_largest_glossary_is_one_pattern_and_fast():
    import time

    from livetranslate.translation.glossary import MAX_ENTRIES

    g = Glossary(terms={f"t{i} w{i}": {"es": f"x{i}"} for i in range(MAX_ENTRIES)})  # ~56 KB
    text = "Good morning everyone, t17 w17 first, then the quarterly numbers. " * 3
    g.entries_in(text, "es")  # compiled once per target
    started = time.perf_counter()
    for _ in range(20):
        assert len(protect(text, g, "es").replacements) == 3
    assert (time.perf_counter() - started) / 20 < 0.05  # was one regex per term: ~16 ms for 2000
