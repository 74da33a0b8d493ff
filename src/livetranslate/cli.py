"""The one entry point: ``livetranslate serve | transcribe | db upgrade``."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from livetranslate.settings import get_settings

app = typer.Typer(help="LiveTranslate: real-time speech transcription, offline on one machine.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema (Alembic).", no_args_is_help=True)
app.add_typer(db_app, name="db")
err = Console(stderr=True)


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
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Write here instead of stdout.")] = None,
) -> None:
    """Transcribe a file offline (the same engine and VAD as live sessions)."""
    from livetranslate.asr import AsrEngine, SegmenterOptions, WhisperAsr
    from livetranslate.asr.files import transcribe_file
    from livetranslate.audio import decode_file
    from livetranslate.errors import LiveTranslateError
    from livetranslate.exports import render
    from livetranslate.vad import SileroVad

    if format not in ("json", "srt", "vtt", "txt"):
        raise typer.BadParameter(f"{format!r}; choose one of json, srt, vtt, txt", param_hint="--format")
    s = get_settings()
    try:
        audio = decode_file(file)
        asr = WhisperAsr(
            s.model, device=s.device, compute_type=s.compute_type, cpu_threads=s.cpu_threads,
            encoder_window=s.encoder_window,
        )
        lang = language or s.default_language
        asr.check_language(lang)
    except LiveTranslateError as e:
        err.print(f"[red]error:[/red] {e.message}")
        raise typer.Exit(2) from e
    engine = AsrEngine(asr, 1)
    duration = audio.size / 16000

    async def run():
        engine.start()
        try:
            with Progress(
                TextColumn("[bold]transcribing"), BarColumn(), TextColumn("{task.completed:.0f}/{task.total:.0f} s"),
                TimeRemainingColumn(), console=err, transient=True,
            ) as progress:
                task = progress.add_task("asr", total=duration)
                return await transcribe_file(
                    engine, SileroVad(), audio, language=lang,
                    segmenter=SegmenterOptions.from_settings(s),
                    beam_size=s.final_beam_size,
                    on_progress=lambda t: progress.update(task, completed=t),
                )
        finally:
            engine.stop()

    segments, detected = asyncio.run(run())
    text = render(segments, format, file=str(file), language=detected, duration=round(duration, 3))
    if output:
        output.write_text(text, encoding="utf-8")
        err.print(f"wrote {len(segments)} segments to {output}")
    else:
        typer.echo(text, nl=not text.endswith("\n"))


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument(help="Target revision.")] = "head") -> None:
    """Apply the Alembic migrations to the configured database."""
    from livetranslate.store import upgrade

    url = get_settings().database_url
    upgrade(url, revision)
    err.print(f"database at {url} is at {revision}")


if __name__ == "__main__":
    app()
