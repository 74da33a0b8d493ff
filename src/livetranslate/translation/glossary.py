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

from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field, PrivateAttr, field_validator


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
    _patterns: dict[str, tuple] = PrivateAttr(default_factory=dict)

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
        return [(m.group(0), *self.entry(m, target)) for m in self._matches(text, target)]

    def _matches(self, text: str, target: str) -> list[re.Match]:
        pattern = self._compiled(target)[0]
        return [] if pattern is None else list(pattern.finditer(text))

    def entry(self, match: re.Match, target: str) -> tuple[str, str]:
        """(fixed translation, kind) of a match: terms in any case, names as written."""
        _, terms, keep, alternatives = self._compiled(target)
        found = match.group(0)
        if (fixed := terms.get(found.lower())) is not None:
            return fixed, "term"
        if found in keep:
            return found, "keep"
        for fixed, kind, alternative in alternatives:  # a case that lower() folds otherwise (İ, µ, ſ)
            if re.fullmatch(alternative, found):
                return fixed, kind
        raise AssertionError(f"glossary: {found!r} matched no entry")

    def _compiled(self, target: str) -> tuple[re.Pattern | None, dict[str, str], set[str], list[tuple[str, str, str]]]:
        """One pattern for every entry into ``target``: terms match in any case, names to keep
        only as written ("Bill" the person, not "bill"); at a position the longest entry wins
        (a term before a name of the same length, the first of two terms alike)."""
        if target not in self._patterns:
            found = [(t, tr[target], "term", f"(?i:{re.escape(t)})") for t, tr in self.terms.items() if target in tr]
            found += [(k, k, "keep", re.escape(k)) for k in self.keep]
            found.sort(key=lambda c: -len(c[0]))
            terms: dict[str, str] = {}
            for source, fixed, kind, _ in found:
                if kind == "term":
                    terms.setdefault(source.lower(), fixed)
            body = "|".join(alternative for *_, alternative in found)
            pattern = re.compile(rf"(?<!\w)(?:{body})(?!\w)") if found else None
            self._patterns[target] = (pattern, terms, set(self.keep), [(f, k, a) for _, f, k, a in found])
        return self._patterns[target]



def _bounded(glossary: Glossary) -> Glossary:
    problem = glossary.over_bounds()
    if problem is not None:
        raise ValueError(problem)
    return glossary


GlossaryInput = Annotated[Glossary, AfterValidator(_bounded)]
"""A glossary as a request gives it: within :data:`MAX_ENTRIES` and :data:`MAX_BYTES` (what is
stored was checked when it was given, and is read back as it is)."""


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
        out.replacements[placeholder] = glossary.entry(m, target)[0]
        # same capitalisation as the original, so the engine's casing rules still hold
        pieces += [text[at : m.start()], placeholder.capitalize() if m.group(0)[:1].isupper() else placeholder]
        at = m.end()
    out.text = "".join(pieces) + text[at:]
    return out
