"""Glossary: terms translated a fixed way, and names never translated.

Every engine applies it. Rule-based engines cannot be told, so the terms are *protected*:
replaced by placeholders the engine passes through untouched (unknown words), then
*restored* as the fixed translation (or the name itself). An LLM is told in its prompt and
its reply is checked.

A glossary is bounded (:data:`MAX_ENTRIES`, :data:`MAX_BYTES`) and matched with one pattern per
target language, compiled once (the longest entry first at each position): matching costs
about a millisecond per caption at the largest size, and runs where the engine runs, off the
event loop.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Literal, get_args

from pydantic import BaseModel, Field, PrivateAttr, field_validator, model_validator


EngineName = Literal["apertium", "llm", "whisper"]
"""The translation engines (defined here, beside the glossary they all apply, so that settings
can name them without importing the engines)."""
ENGINES: tuple[str, ...] = get_args(EngineName)

MAX_ENTRIES = 2000
"""Terms and names to keep, together, in one glossary."""
MAX_BYTES = 64 * 1024
"""A glossary's size as JSON."""
MAX_TERM_CHARS = 200
MAX_TRANSLATION_CHARS = 500


class Glossary(BaseModel):
    """``terms``: source term → {target language → translation}; ``keep``: never translated."""

    terms: dict[str, dict[str, str]] = Field(
        default_factory=dict, description=f"At most {MAX_ENTRIES} terms and names together, {MAX_BYTES // 1024} KB as JSON.",
    )
    keep: list[str] = Field(default_factory=list)
    _patterns: dict[str, tuple[re.Pattern | None, dict[str, str], dict[str, str]]] = PrivateAttr(default_factory=dict)

    @field_validator("terms")
    @classmethod
    def _terms(cls, v: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
        for term, translations in v.items():
            if not term.strip():
                raise ValueError("a glossary term cannot be empty")
            if len(term) > MAX_TERM_CHARS:
                raise ValueError(f"term {term[:40]!r}...: longer than {MAX_TERM_CHARS} characters")
            if any(not t.strip() for t in translations.values()):
                raise ValueError(f"term {term!r}: a translation cannot be empty")
            if any(len(t) > MAX_TRANSLATION_CHARS for t in translations.values()):
                raise ValueError(f"term {term!r}: a translation is longer than {MAX_TRANSLATION_CHARS} characters")
        return v

    @field_validator("keep")
    @classmethod
    def _keep(cls, v: list[str]) -> list[str]:
        if any(not k.strip() for k in v):
            raise ValueError("a name to keep cannot be empty")
        if any(len(k) > MAX_TERM_CHARS for k in v):
            raise ValueError(f"a name to keep is longer than {MAX_TERM_CHARS} characters")
        return v

    @model_validator(mode="after")
    def _bounded(self) -> "Glossary":
        problem = self.over_bounds()
        if problem is not None:
            raise ValueError(problem)
        return self

    @classmethod
    def stored(cls, data: dict) -> "Glossary":
        """A glossary read back from the store: checked when it was given (one stored before
        there were bounds is still used, as it was)."""
        return cls.model_construct(terms=data.get("terms") or {}, keep=data.get("keep") or [])

    def over_bounds(self) -> str | None:
        """Why this glossary is over :data:`MAX_ENTRIES` or :data:`MAX_BYTES`, or None."""
        entries = len(self.terms) + len(self.keep)
        if entries > MAX_ENTRIES:
            return f"a glossary may have at most {MAX_ENTRIES} terms and names together, not {entries}"
        size = len(json.dumps({"terms": self.terms, "keep": self.keep}, ensure_ascii=False).encode())
        if size > MAX_BYTES:
            return f"a glossary may be at most {MAX_BYTES // 1024} KB as JSON, not {size / 1024:.0f} KB"
        return None

    def merged(self, other: "Glossary | None") -> "Glossary":
        """This glossary with ``other``'s entries on top (a session's over the default). Each
        part was checked; the two together may be over the bounds (see :meth:`over_bounds`)."""
        if other is None:
            return self
        terms = {k: dict(v) for k, v in self.terms.items()}
        for term, translations in other.terms.items():
            terms.setdefault(term, {}).update(translations)
        return Glossary.model_construct(terms=terms, keep=list(dict.fromkeys([*self.keep, *other.keep])))

    def entries_in(self, text: str, target: str) -> list[tuple[str, str, str]]:
        """(matched text, fixed translation, kind) for every entry found in ``text``, in order."""
        return [(m.group(0), *self._entry(m.group(0), target)) for m in self._matches(text, target)]

    def _matches(self, text: str, target: str) -> list[re.Match]:
        pattern = self._compiled(target)[0]
        return [] if pattern is None else list(pattern.finditer(text))

    def _entry(self, found: str, target: str) -> tuple[str, str]:
        """(fixed translation, kind) of a matched text: terms in any case, names as written."""
        _, terms, keep = self._compiled(target)
        fixed = terms.get(found.lower())
        return (fixed, "term") if fixed is not None else (keep[found], "keep")

    def _compiled(self, target: str) -> tuple[re.Pattern | None, dict[str, str], dict[str, str]]:
        """One pattern for every entry into ``target``: terms match in any case, names to keep
        only as written ("Bill" the person, not "bill"); the longest entry wins at a position."""
        if target not in self._patterns:
            terms = {t.lower(): tr[target] for t, tr in self.terms.items() if target in tr}
            keep = {k: k for k in self.keep}
            alternatives = sorted(
                [(t, f"(?i:{re.escape(t)})") for t in terms] + [(k, re.escape(k)) for k in keep],
                key=lambda a: -len(a[0]),
            )
            pattern = (re.compile(r"(?<!\w)(?:" + "|".join(a for _, a in alternatives) + r")(?!\w)")
                       if alternatives else None)
            self._patterns[target] = (pattern, terms, keep)
        return self._patterns[target]


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
    out = Protected(text)
    if glossary is None:
        return out
    pieces, at = [], 0
    for m in glossary._matches(text, target):
        placeholder = f"zxq{len(out.replacements)}q"
        out.replacements[placeholder] = glossary._entry(m.group(0), target)[0]
        # same capitalisation as the original, so the engine's casing rules still hold
        pieces += [text[at : m.start()], placeholder.capitalize() if m.group(0)[:1].isupper() else placeholder]
        at = m.end()
    out.text = "".join(pieces) + text[at:]
    return out
