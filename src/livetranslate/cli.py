"""The one entry point: ``livetranslate serve | transcribe | translate | db upgrade``."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from livetranslate.settings import get_settings

app = typer.Typer(
    help="LiveTranslate: real-time speech transcription and translation, offline on one machine.", no_args_is_help=True
)
db_app = typer.Typer(help="Database schema (Alembic).", no_args_is_help=True)
app.add_typer(db_app, name="db")
err = Console(stderr=True, soft_wrap=True)


@app.command()
def serve(
    host: Annotated[Optional[str], typer.Option(help="Bind address (default from settings: 127.0.0.1).")] = None,
    port: Annotated[Optional[int], typer.Option(help="Port (default from settings: 8000).")] = None,
) -> None:
    """Start the HTTP + WebSocket server."""
    import uvicorn

    from livetranslate.api import create_app

    settings = get_settings()
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    uvicorn.run(
        create_app(settings),
        host=host or settings.host,
        port=port or settings.port,
        log_level=settings.log_level,
        ws_max_size=max(settings.max_frame_bytes * 2, 1 << 20),
    )


@app.command()
def transcribe(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="Audio or video file.")],
    format: Annotated[str, typer.Option("--format", "-f", help="json | srt | vtt | txt")] = "txt",
    language: Annotated[Optional[str], typer.Option("--language", "-l", help="Spoken language; omit to use the default.")] = None,
    detect: Annotated[bool, typer.Option("--detect", help="Detect the language of each segment (multilingual model).")] = False,
    to: Annotated[Optional[str], typer.Option("--to", help="Translate into these languages, e.g. es,fr.")] = None,
    bilingual: Annotated[bool, typer.Option("--bilingual", help="With --to: original line, then translation.")] = False,
    engine: Annotated[Optional[str], typer.Option("--engine", help="Translation engine: apertium | llm | whisper.")] = None,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Write here instead of stdout (NAME.LANG.EXT per target).")] = None,
    speakers: Annotated[bool, typer.Option("--speakers/--no-speakers", help="Say who spoke: Speaker 1, Speaker 2, ... (voice clusters).")] = True,
) -> None:
    """Transcribe a file offline (the same engine and VAD as live sessions), and translate it."""
    from livetranslate.asr import AsrEngine, SegmenterOptions
    from livetranslate.asr.files import transcribe_file
    from livetranslate.audio import decode_file
    from livetranslate.errors import LiveTranslateError
    from livetranslate.exports import render
    from livetranslate.speakers import SessionSpeakers, VoiceEncoder
    from livetranslate.translation import build_router
    from livetranslate.vad import SileroVad

    if format not in ("json", "srt", "vtt", "txt"):
        raise typer.BadParameter(f"{format!r}; choose one of json, srt, vtt, txt", param_hint="--format")
    targets = [t.strip() for t in to.split(",") if t.strip()] if to else []
    if len(targets) > 1 and output is None:
        raise typer.BadParameter("several targets need --output (one file per language is written)", param_hint="--to")
    s = get_settings()
    lang = None if detect else (language or s.default_language)
    try:
        audio = decode_file(file)
        asr = AsrEngine.from_settings(s, workers=1, final_lane=False)
        asr.check_language(lang)
        router = build_router(s, asr)
        router.check(lang, targets, engine)
    except LiveTranslateError as e:
        err.print(f"[red]error:[/red] {e.message}")
        raise typer.Exit(2) from e
    duration = audio.size / 16000

    async def run():
        asr.start()
        try:
            with _progress() as progress:
                task = progress.add_task("transcribing", total=duration)
                segments, detected = await transcribe_file(
                    asr, SileroVad(), audio, language=lang,
                    segmenter=SegmenterOptions.from_settings(s),
                    beam_size=s.final_beam_size,
                    on_progress=lambda t: progress.update(task, completed=t),
                    speakers=SessionSpeakers.from_settings(s) if speakers else None,
                    encoder=VoiceEncoder() if speakers else None,
                )
                by_lang = {}
                for target in targets:
                    task = progress.add_task(f"translating → {target}", total=duration)
                    by_lang[target] = await _translate_segments(
                        router, segments, audio, target, lang or detected or "en", engine, s.glossary,
                        s.translation_context_segments, lambda t, task=task: progress.update(task, completed=t),
                    )
            return segments, detected, by_lang
        finally:
            await router.aclose()
            asr.stop()

    segments, detected, by_lang = asyncio.run(run())
    meta = dict(file=str(file), language=detected, duration=round(duration, 3))
    if not targets:
        _write(render(segments, format, **meta), output, len(segments))
    for target, translated in by_lang.items():
        text = render(translated, format, lang=target, bilingual=bilingual, **meta)
        path = output.with_suffix(f".{target}{output.suffix}") if output is not None and len(targets) > 1 else output
        _write(text, path, len(translated))


async def _translate_segments(
    router, segments, audio, target, source_default, engine, glossary, context_size, on_progress
):
    """Each segment into ``target``, in order, with the ones before it as context."""
    from dataclasses import replace

    from livetranslate.translation import TranslationRequest

    out, context = [], []
    for seg in segments:
        source = seg.language or source_default
        text, used = seg.text, "none"
        if source != target:
            outcome = await router.translate(
                TranslationRequest(
                    seg.text, source, target, context=tuple(context[-context_size:]) if context_size else (),
                    glossary=glossary, audio=audio[int(seg.start * 16000) : int(seg.end * 16000)],
                ),
                engine,
            )
            for name, why in outcome.failures:
                err.print(f"[yellow]warning:[/yellow] {name}: {why}")
            text, used = (outcome.text, outcome.engine) if outcome.text is not None else (None, None)
        context.append(seg.text)
        out.append(replace(seg, translation=text, translation_engine=used))
        on_progress(seg.end)
    return out


def _progress() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.completed:.0f}/{task.total:.0f} s"),
        TimeRemainingColumn(), console=err, transient=True,
    )


def _write(text: str, path: Path | None, count: int) -> None:
    if path is None:
        typer.echo(text, nl=not text.endswith("\n"))
    else:
        path.write_text(text, encoding="utf-8")
        err.print(f"wrote {count} segments to {path}")


@app.command()
def translate(
    text: Annotated[str, typer.Argument(help="Text to translate.")],
    to: Annotated[str, typer.Option("--to", help="Target languages, e.g. es or es,fr.")],
    source: Annotated[str, typer.Option("--from", help="Language of the text.")] = "en",
    engine: Annotated[Optional[str], typer.Option("--engine", help="apertium | llm (default from settings).")] = None,
) -> None:
    """Translate text with the configured engines (one line per target: LANG<TAB>TEXT)."""
    from livetranslate.errors import LiveTranslateError
    from livetranslate.translation import TranslationRequest, build_router

    s = get_settings()
    targets = [t.strip() for t in to.split(",") if t.strip()]
    router = build_router(s)  # text only: no speech model needed
    try:
        router.check(source, targets, engine)
    except LiveTranslateError as e:
        err.print(f"[red]error:[/red] {e.message}")
        raise typer.Exit(2) from e

    async def run():
        try:
            results = []
            for target in targets:
                if target == source:
                    results.append((target, text, None))
                    continue
                outcome = await router.translate(TranslationRequest(text, source, target, glossary=s.glossary), engine)
                results.append((target, outcome.text, outcome))
            return results
        finally:
            await router.aclose()

    failed = False
    for target, translated, outcome in asyncio.run(run()):
        for name, why in outcome.failures if outcome else []:
            err.print(f"[yellow]warning:[/yellow] {name}: {why}")
        if translated is None:
            failed = True
            err.print(f"[red]error:[/red] no engine could translate into {target}")
            continue
        typer.echo(f"{target}\t{translated}" if len(targets) > 1 else translated)
    if failed:
        raise typer.Exit(1)


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument(help="Target revision.")] = "head") -> None:
    """Apply the Alembic migrations to the configured database."""
    from livetranslate.store import upgrade

    url = get_settings().database_url
    upgrade(url, revision)
    err.print(f"database at {url} is at {revision}")


if __name__ == "__main__":
    app()
