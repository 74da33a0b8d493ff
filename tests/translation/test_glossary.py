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
