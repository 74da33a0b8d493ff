"""Glossary: terms translated a fixed way, and names never translated.

Every engine applies it. Rule-based engines cannot be told, so the terms are *protected*:
replaced by placeholders the engine passes through untouched (unknown words), then
*restored* as the fixed translation (or the name itself). An LLM is told in its prompt and
its reply is checked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal, get_args

from pydantic import BaseModel, Field, field_validator


EngineName = Literal["apertium", "llm", "whisper"]
"""The translation engines (defined here, beside the glossary they all apply, so that settings
can name them without importing the engines)."""
ENGINES: tuple[str, ...] = get_args(EngineName)


class Glossary(BaseModel):
    """``terms``: source term → {target language → translation}; ``keep``: never translated."""

    terms: dict[str, dict[str, str]] = Field(default_factory=dict)
    keep: list[str] = Field(default_factory=list)

    @field_validator("terms")
    @classmethod
    def _terms(cls, v: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
        for term, translations in v.items():
            if not term.strip():
                raise ValueError("a glossary term cannot be empty")
            if any(not t.strip() for t in translations.values()):
                raise ValueError(f"term {term!r}: a translation cannot be empty")
        return v

    @field_validator("keep")
    @classmethod
    def _keep(cls, v: list[str]) -> list[str]:
        if any(not k.strip() for k in v):
            raise ValueError("a name to keep cannot be empty")
        return v

    def merged(self, other: "Glossary | None") -> "Glossary":
        """This glossary with ``other``'s entries on top (a session's over the default)."""
        if other is None:
            return self
        terms = {k: dict(v) for k, v in self.terms.items()}
        for term, translations in other.terms.items():
            terms.setdefault(term, {}).update(translations)
        return Glossary(terms=terms, keep=list(dict.fromkeys([*self.keep, *other.keep])))

    def entries_in(self, text: str, target: str) -> list[tuple[str, str, str]]:
        """(matched text, fixed translation, kind) for every entry found in ``text``; longest first."""
        found: list[tuple[str, str, str]] = []
        for source, fixed, kind in self._candidates(target):
            for m in _pattern(source, kind).finditer(text):
                found.append((m.group(0), fixed, kind))
        return found

    def _candidates(self, target: str) -> list[tuple[str, str, str]]:
        out = [(t, tr[target], "term") for t, tr in self.terms.items() if target in tr]
        out += [(k, k, "keep") for k in self.keep]
        return sorted(out, key=lambda c: -len(c[0]))


@dataclass
class Protected:
    text: str
    replacements: dict[str, str] = field(default_factory=dict)

    def restore(self, translated: str) -> str:
        for placeholder, fixed in self.replacements.items():
            translated = re.sub(re.escape(placeholder), lambda _: fixed, translated, flags=re.IGNORECASE)
        return translated

    def intact(self, translated: str) -> bool:
        """Every placeholder came through the engine."""
        low = translated.lower()
        return all(p in low for p in self.replacements)


def protect(text: str, glossary: Glossary | None, target: str) -> Protected:
    """Replace glossary entries by placeholders (lowercase letters and digits, which rule-based
    engines pass through as unknown words)."""
    if glossary is None:
        return Protected(text)
    out = Protected(text)
    for source, fixed, kind in glossary._candidates(target):
        def sub(m: re.Match, fixed=fixed) -> str:
            placeholder = f"zxq{len(out.replacements)}q"
            out.replacements[placeholder] = fixed
            # same capitalisation as the original, so the engine's casing rules still hold
            return placeholder.capitalize() if m.group(0)[:1].isupper() else placeholder

        out.text = _pattern(source, kind).sub(sub, out.text)
    return out


def _pattern(term: str, kind: str) -> re.Pattern:
    """Terms match in any case; names to keep only as written ("Bill" the person, not "bill")."""
    return re.compile(rf"(?<!\w){re.escape(term)}(?!\w)", re.IGNORECASE if kind == "term" else 0)
