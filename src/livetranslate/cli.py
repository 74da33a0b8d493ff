"""The one entry point: ``livetranslate serve | transcribe | translate | languages | db upgrade``."""

from __future__ import annotations

import asyncio
import logging
import socket
from pathlib import Path
from typing import Annotated, Optional

import typer
import typer.core
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from livetranslate import __version__
from livetranslate.settings import Settings, default_data_dir, get_settings



def _data_dir() -> str:
    """The data directory as the commands will use it (environment, .env, else per user)."""
    from pydantic import ValidationError

    try:
        return str(get_settings().data_dir)
    except ValidationError:  # the command run will say what is wrong; help still shows the default
        return str(default_data_dir())


_DATA = _data_dir()
app = typer.Typer(
    add_completion=False,
    help="LiveTranslate: real-time speech transcription and translation, offline on one machine.\n\n"
    f"Data (database, session audio, assembled models): {_DATA} — set LIVETRANSLATE_DATA_DIR to use another.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)
db_app = typer.Typer(help=f"The database schema (Alembic). Database: in {_DATA} unless LIVETRANSLATE_DATABASE_URL says.",
                     no_args_is_help=True)
app.add_typer(db_app, name="db")
bot_app = typer.Typer(help="Meeting bots: send one into a Google Meet, follow it, make it leave.", no_args_is_help=True)
app.add_typer(bot_app, name="bot")
keys_app = typer.Typer(help="API keys: make one (shown once), list them, revoke one. Works on the store directly, "
                       "with or without a server running.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
tenants_app = typer.Typer(help="Tenants (made by `keys create`): list them, set one's own limits over the server's.",
                          no_args_is_help=True)
app.add_typer(tenants_app, name="tenants")
err = Console(stderr=True, soft_wrap=True, highlight=False)
FORMATS = ("json", "srt", "vtt", "txt")
NO_SPEECH = "no speech recognised — is the language right? try --language / --detect"


class _Command(typer.core.TyperCommand):
    """Usage lines as people read them: ``FILE``, not typer's ``{FILE}`` for a required argument."""

    def collect_usage_pieces(self, ctx) -> list[str]:
        return [p[1:-1] if p[:1] == "{" and p[-1:] == "}" else p for p in super().collect_usage_pieces(ctx)]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"livetranslate {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, metavar="", help="Show the version and exit.")
    ] = False,
) -> None:
    """LiveTranslate: real-time speech transcription and translation, offline on one machine."""


def _fail(message: str, code: int = 2) -> None:
    err.print(f"[red]error:[/red] {message}")
    raise typer.Exit(code)


def _warn(message: str) -> None:
    err.print(f"[yellow]warning:[/yellow] {message}")


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _codes(text: str | None) -> list[str]:
    """Language codes as people type them: 'ES, fr' → ['es', 'fr']."""
    from livetranslate.translation.langid import language_code

    return [language_code(c) for c in (text or "").split(",") if c.strip()]


@app.command(epilog="Examples:  livetranslate serve  ·  livetranslate serve --host 0.0.0.0 --port 9000")
def serve(
    host: Annotated[Optional[str], typer.Option(metavar="ADDRESS", help="Bind address (default 127.0.0.1).")] = None,
    port: Annotated[Optional[int], typer.Option(metavar="PORT", help="Port (default 8000).")] = None,
) -> None:
    """Start the HTTP + WebSocket server and the dashboard (http://127.0.0.1:8000/)."""
    import uvicorn

    from livetranslate import datadir
    from livetranslate.api import create_app
    from livetranslate.errors import LiveTranslateError
    from livetranslate.memory import tune_malloc

    tune_malloc()  # before any thread starts
    settings = get_settings()
    host, port = host or settings.host, port or settings.port
    try:  # both before any model is loaded
        datadir.hold(settings.data_dir)
        _check_port(host, port)
    except LiveTranslateError as e:
        _fail(e.message)
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    err.print(f"data: {settings.data_dir}")
    settings = settings.model_copy(update={"host": host, "port": port})
    _say_who_may_call(settings)
    if host in ("0.0.0.0", "::"):
        err.print(f"[yellow]warning:[/] bound to {host}: every network this machine is on can reach the server. "
                  "It answers only to localhost and the host names in LIVETRANSLATE_ALLOWED_HOSTS.")
    app = create_app(settings)

    class Server(uvicorn.Server):
        async def shutdown(self, sockets=None) -> None:
            # live sessions first: their clients get the last finals and a 1001, before uvicorn
            # closes every connection that is still open (1012)
            for server in self.servers:
                server.close()  # no new connections meanwhile
            services = getattr(app.state, "services", None)
            if services is not None:
                await services.stop_live()
            await super().shutdown(sockets)

    Server(uvicorn.Config(
        app, host=host, port=port, log_level=settings.log_level,
        # frames up to 16x the limit reach the app, which answers 4413 with an error event;
        # past that the WebSocket layer refuses them itself (1009) before buffering more
        ws_max_size=16 * settings.max_frame_bytes,
    )).run()


def _say_who_may_call(settings: Settings) -> None:
    """Refuse to serve beyond loopback with no word on keys; say at every start how it stands."""
    from livetranslate.auth import mode

    how = mode(settings)
    if how is None:
        _fail(f"bound to {settings.host} with no API keys asked for: anyone who reaches the port could read "
              "and delete every transcript. Make a key (`livetranslate keys create --tenant NAME --role admin`) "
              "and set LIVETRANSLATE_AUTH=keys, or set LIVETRANSLATE_AUTH=none to serve openly all the same")
    elif how == "none" and settings.host not in ("127.0.0.1", "localhost", "::1"):
        err.print(f"[yellow]warning:[/] LIVETRANSLATE_AUTH=none on {settings.host}: anyone who reaches the port may "
                  "do anything")
    elif how == "none":
        err.print("open: no API keys asked for (loopback only; LIVETRANSLATE_AUTH=keys to ask)")
    else:
        err.print("API keys asked for on every call (LIVETRANSLATE_AUTH=keys)")


def _check_port(host: str, port: int) -> None:
    from livetranslate.errors import Conflict

    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            s.bind((host, port))
        except OSError as e:
            raise Conflict(
                f"cannot listen on {host}:{port} ({e.strerror.lower() if e.strerror else e}): another server may be "
                "running there; stop it or choose another port with --port (or LIVETRANSLATE_PORT)"
            ) from None


_TRANSCRIBE_EXAMPLES = """Examples:

  livetranslate transcribe meeting.mp3                      (language detected, text on stdout)

  livetranslate transcribe meeting.mp3 -o meeting.srt --to es,fr   (meeting.srt, meeting.es.srt, meeting.fr.srt)

  livetranslate transcribe reunion.m4a --language es --to en -f json

  livetranslate transcribe https://example.org/talk.mp3 -o talk.vtt   (a URL: read as fast as it comes)
"""


@app.command(cls=_Command, epilog=_TRANSCRIBE_EXAMPLES)
def transcribe(
    file: Annotated[str, typer.Argument(
        metavar="FILE", help="Audio or video file (wav, mp3, m4a, ogg, webm, mp4...), or its http(s) URL.",
    )],
    format: Annotated[Optional[str], typer.Option(
        "--format", "-f", metavar="FORMAT", help="json | srt | vtt | txt. Default: from the --output extension, else txt.",
    )] = None,
    language: Annotated[Optional[str], typer.Option(
        "--language", "-l", metavar="LANG",
        help="Spoken language (en, es, de, ...). Default: auto — detected from the first seconds of speech.",
    )] = None,
    detect: Annotated[bool, typer.Option(
        "--detect", metavar="", help="Detect the language of every segment (a meeting that switches languages).",
    )] = False,
    to: Annotated[Optional[str], typer.Option(
        "--to", metavar="LANGS", help="Translate into these languages, e.g. es,fr (what is installed: "
        "`livetranslate languages`).",
    )] = None,
    bilingual: Annotated[bool, typer.Option("--bilingual", metavar="", help="With --to: each original line, then its translation.")] = False,
    engine: Annotated[Optional[str], typer.Option(
        "--engine", metavar="ENGINE", help="Translation engine: apertium (offline) | llm (needs LIVETRANSLATE_LLM_BASE_URL)"
        " | whisper (speech → English). Default: the best installed for each pair.",
    )] = None,
    output: Annotated[Optional[Path], typer.Option(
        "--output", "-o", metavar="PATH", help="Write the transcript here, and each translation beside it as "
        "NAME.LANG.EXT. Default: stdout.",
    )] = None,
    speakers: Annotated[bool, typer.Option(
        "--speakers/--no-speakers", metavar="", help="Say who spoke: Speaker 1, Speaker 2, ... (voice clusters).",
    )] = True,
) -> None:
    """Transcribe a file offline (the same engine and VAD as live sessions), and translate it."""
    from livetranslate.errors import LiveTranslateError

    fmt = _output_format(format, output)
    targets = _codes(to)
    if len(targets) > 1 and output is None:
        _fail("several targets need --output (one file per language is written)")
    lang = _spoken(language, detect)
    if "://" in file:  # a URL: read as fast as the server sends it
        from livetranslate.sources.url import check_url

        try:
            check_url(file)
        except LiveTranslateError as e:
            _fail(e.message)
    elif not Path(file).is_file():
        _fail(f"{file}: no such file")
    try:
        job = _FileJob.prepare(file, lang, targets, engine, detect)
    except LiveTranslateError as e:
        _fail(f"{Path(file).name}: {e.message}" if e.code == "unsupported_media" else e.message)
    segments, detected, by_lang = asyncio.run(job.run(speakers))
    if not segments:
        _fail(NO_SPEECH, 1)
    meta = dict(file=str(file), language=detected, duration=round(job.duration, 3))
    from livetranslate.exports import render

    if output is not None or not targets:
        _write(render(segments, fmt, **meta), output, len(segments))
    failed = False
    for target, translated in by_lang.items():
        done = sum(s.translation is not None for s in translated)
        if done == 0:
            _warn_untranslated(translated, target, None)
            err.print(f"[red]error:[/red] nothing could be translated into {target}; no {target} file written")
            failed = True
            continue
        path = output.with_name(f"{output.stem}.{target}{output.suffix}") if output is not None else None
        _warn_untranslated(translated, target, path)
        _write(render(translated, fmt, lang=target, bilingual=bilingual, **meta), path, len(translated))
    if failed:
        raise typer.Exit(1)


@app.command(epilog="Examples:  livetranslate stream https://example.org/live/radio.m3u8 --to es  ·  "
              "livetranslate stream rtsp://camera.local/audio -o meeting.srt")
def stream(
    url: Annotated[str, typer.Argument(metavar="URL", help="A stream or file URL: http(s) (HLS, Icecast, a file), rtsp, rtmp, srt.")],
    to: Annotated[Optional[str], typer.Option("--to", metavar="LANGS", help="Translate into these languages, e.g. es,fr.")] = None,
    language: Annotated[Optional[str], typer.Option(
        "--language", "-l", metavar="LANG", help="Spoken language. Default: the server's default for new sessions.",
    )] = None,
    title: Annotated[Optional[str], typer.Option("--title", metavar="TEXT", help="The session's title.")] = None,
    format: Annotated[Optional[str], typer.Option(
        "--format", "-f", metavar="FORMAT", help="With --output: json | srt | vtt | txt (default from the extension).",
    )] = None,
    output: Annotated[Optional[Path], typer.Option(
        "--output", "-o", metavar="PATH", help="At the end, write the transcript here (and each translation beside it).",
    )] = None,
    server: Annotated[Optional[str], typer.Option(
        "--server", metavar="URL", help="The LiveTranslate server (default http://HOST:PORT from the settings).",
    )] = None,
) -> None:
    """Caption a stream URL live through a running server (`livetranslate serve`): each final is
    printed as it comes, with its translations; Ctrl-C ends the session (its finals are kept)."""
    from livetranslate.client import Client, ClientError

    fmt = _output_format(format, output) if output is not None else None
    targets = _codes(to)
    settings = get_settings()
    base = server or f"http://{settings.host}:{settings.port}"
    body = {"title": title or f"Stream {url}"[:300], "targets": targets}
    if language is not None:
        body["language"] = None if language == "auto" else next(iter(_codes(language)), None)
    with Client(base) as lt:
        try:
            session = lt.create_session(**body)
            lt.add_source(session["id"], url)
            failed, finals = _follow_stream(lt, session["id"])
            if output is not None:
                _write(lt.transcript(session["id"], fmt), output, finals)
                for lang in targets:
                    path = output.with_name(f"{output.stem}.{lang}{output.suffix}")
                    _write(lt.transcript(session["id"], fmt, lang), path, finals)
        except ClientError as e:
            _fail(e.message, 1)
    if failed:
        raise typer.Exit(1)


def _follow_stream(lt, session_id: str) -> tuple[bool, int]:
    """Print the session's finals and translations until it ends: (the stream failed, finals)."""
    failed, finals = False, 0
    try:
        for e in lt.events(session_id):
            if e.type == "segment" and e.status == "final" and e.text:
                finals += 1
                print(_caption(e), flush=True)
            elif e.type == "translation" and e.status == "final" and e.text:
                print(f"    {e.lang}: {e.text}", flush=True)
            elif e.type == "source.status" and e.state in ("reconnecting", "failed"):
                _warn(f"the stream is {e.state}: {e.reason}")
                if e.state == "failed":
                    failed = True
                    lt.end(session_id)
            elif e.type == "warning":
                _warn(e.message)
    except KeyboardInterrupt:
        err.print("ending the session…")
        last = lt.session(session_id)["last_seq"]
        lt.end(session_id)
        for e in lt.events(session_id, after_seq=last):  # its last finals
            if e.type == "segment" and e.status == "final" and e.text:
                finals += 1
                print(_caption(e), flush=True)
    return failed, finals


def _caption(e) -> str:
    """One final as ``stream`` prints it: ``[mm:ss.s] Speaker N: text``."""
    who = f"{e.speaker_name or 'Speaker ' + e.speaker.lstrip('S')}: " if e.speaker else ""
    return f"[{int(e.start // 60):02d}:{e.start % 60:04.1f}] {who}{e.text}"


def _output_format(format: str | None, output: Path | None) -> str:
    if format is not None:
        if format.lower() not in FORMATS:
            _fail(f"--format {format!r}: choose one of {', '.join(FORMATS)}")
        return format.lower()
    suffix = output.suffix.lower().lstrip(".") if output is not None else ""
    if suffix in FORMATS:
        return suffix
    if suffix and suffix != "text":
        _fail(f"cannot tell the format from {output.name!r}: give --format ({', '.join(FORMATS)})")
    return "txt"


def _spoken(language: str | None, detect: bool) -> str | None:
    """The spoken language asked for; None to detect it."""
    lang = next(iter(_codes(language)), None)
    if detect and lang not in (None, "auto"):
        _fail("--detect and --language contradict each other: give one")
    return None if lang == "auto" else lang


def _warn_untranslated(segments, target: str, path: Path | None) -> None:
    missing = [s for s in segments if s.translation is None]
    if not missing:
        return
    reasons = sorted({s.translation_error or "no engine could translate it" for s in missing})
    where = f" (marked with their language in {path})" if path is not None and len(missing) < len(segments) else ""
    _warn(f"{len(missing)} of {_plural(len(segments), 'segment')} not translated into {target}{where}: "
          + "; ".join(reasons))


class _FileJob:
    """One file's transcription and translations, with the engines it needs."""

    def __init__(self, settings, audio, models, language, targets, engine, detect) -> None:
        self.settings, self.audio, self.models = settings, audio, models
        self.language, self.targets, self.engine, self.detect = language, targets, engine, detect
        self.duration = audio.size / 16000

    @classmethod
    def prepare(cls, file: str, language, targets, engine, detect) -> "_FileJob":
        from livetranslate.audio import decode_file
        from livetranslate.runtime import Models

        s = get_settings()
        audio = decode_file(file if "://" in file else Path(file))
        models = Models.load(s, workers=1, final_lane=False)
        language = models.engine.file_language(language)
        models.engine.check_language(language)
        models.router.check(language, targets, engine)
        return cls(s, audio, models, language, targets, engine, detect)

    async def run(self, speakers: bool):
        from livetranslate.asr import SegmenterOptions
        from livetranslate.sources.file import transcribe_file
        from livetranslate.speakers import SessionSpeakers
        from livetranslate.translation.files import translate_segments

        s, m = self.settings, self.models
        m.engine.start()
        try:
            with _progress() as progress:
                task = progress.add_task("transcribing", total=self.duration)
                transcript = await transcribe_file(
                    m.engine, m.vad, self.audio, language=self.language,
                    segmenter=SegmenterOptions.from_settings(s), beam_size=s.final_beam_size,
                    on_progress=lambda t: progress.update(task, completed=t),
                    speakers=SessionSpeakers.from_settings(s) if speakers else None,
                    encoder=m.encoder if speakers else None,
                    detect="segment" if self.detect else "file",
                )
                segments, detected = transcript.segments, transcript.language
                for warning in transcript.warnings:
                    _warn(warning.message)
                by_lang = {}
                for target in self.targets if segments else []:
                    task = progress.add_task(f"translating → {target}", total=self.duration)
                    by_lang[target] = await translate_segments(
                        m.router, segments, self.audio, target, source_default=detected or "en", engine=self.engine,
                        glossary=s.glossary, context_size=s.translation_context_segments,
                        on_progress=lambda t, task=task: progress.update(task, completed=t),
                    )
            return segments, detected, by_lang
        finally:
            await m.aclose()


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
        err.print(f"wrote {_plural(count, 'segment')} to {path}")


@app.command(cls=_Command, epilog='Examples:  livetranslate translate "Can you share your screen?" --to es,pt  ·  '
             'livetranslate translate "¿Puedes compartir tu pantalla?" --from es --to en')
def translate(
    text: Annotated[str, typer.Argument(metavar="TEXT", help="Text to translate.")],
    to: Annotated[str, typer.Option("--to", metavar="LANGS", help="Target languages, e.g. es or es,fr.")],
    source: Annotated[str, typer.Option("--from", metavar="LANG", help="Language of the text.")] = "en",
    engine: Annotated[Optional[str], typer.Option(
        "--engine", metavar="ENGINE", help="apertium (offline) | llm (needs LIVETRANSLATE_LLM_BASE_URL). "
        "Default: the best installed for each pair.",
    )] = None,
) -> None:
    """Translate text with the configured engines (several targets: one line each, language TAB text)."""
    from livetranslate.errors import LiveTranslateError
    from livetranslate.translation import TranslationRequest, build_router

    s = get_settings()
    targets, source = _codes(to), next(iter(_codes(source)), "en")
    router = build_router(s)  # text only: no speech model needed
    try:
        router.check(source, targets, engine, speech=False)
    except LiveTranslateError as e:
        _fail(e.message)

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
            _warn(f"{name}: {why}")
        if translated is None:
            failed = True
            err.print(f"[red]error:[/red] no engine could translate into {target}")
            continue
        typer.echo(f"{target}\t{translated}" if len(targets) > 1 else translated)
    if failed:
        raise typer.Exit(1)


@app.command()
def languages() -> None:
    """What can be spoken and translated on this machine, as installed and configured."""
    from livetranslate.translation import build_router
    from livetranslate.translation.langid import language_name

    s = get_settings()
    spoken = f"English ({s.model})"
    if s.multilingual_model:
        spoken += f"; 99 more with {s.multilingual_model} (detection, and speech → English)"
    typer.echo(f"spoken: {spoken}")
    router = build_router(s)
    if not router.engines:
        typer.echo("translation: no engine installed (offline: Apertium, `scripts/system-deps.sh run`; or set "
                   "LIVETRANSLATE_LLM_BASE_URL)")
    for name, translator in router.engines.items():
        pairs = translator.describe()["pairs"]
        if pairs == "any":
            typer.echo(f"{name}: any pair ({translator.describe().get('model')})")
            continue
        by_source: dict[str, list[str]] = {}
        for p in pairs:
            by_source.setdefault(p["source"], []).append(p["target"] + (f" (via {p['via']})" if p["via"] else ""))
        typer.echo(f"{name}:")
        for src, tgts in sorted(by_source.items()):
            typer.echo(f"  {src} ({language_name(src) or src}) → {', '.join(tgts)}")
    if s.multilingual_model:
        typer.echo("whisper: any spoken language → en (speech only: `transcribe FILE --to en`)")


@db_app.command("upgrade", cls=_Command)
def db_upgrade(revision: Annotated[str, typer.Argument(metavar="REVISION", help="Target revision.")] = "head") -> None:
    """Apply the Alembic migrations to the configured database."""
    from livetranslate.store import upgrade

    url = get_settings().database_url
    upgrade(url, revision)
    err.print(f"database at {url} is at {revision}")


if __name__ == "__main__":
    app()


_SERVER_OPTION = typer.Option("--server", metavar="URL", help="The LiveTranslate server (default http://HOST:PORT from the settings).")


def _server(server: str | None) -> str:
    settings = get_settings()
    return server or f"http://{settings.host}:{settings.port}"


@bot_app.command("join", epilog="Examples:  livetranslate bot join https://meet.google.com/abc-defg-hij --to es  ·  "
                 "livetranslate bot join https://meet.google.com/abc-defg-hij --name Notes")
def bot_join(
    url: Annotated[str, typer.Argument(metavar="URL", help="The meeting link (Google Meet).")],
    name: Annotated[Optional[str], typer.Option("--name", metavar="NAME", help="The name it joins with.")] = None,
    to: Annotated[Optional[str], typer.Option("--to", metavar="LANGS", help="Translate into these languages, e.g. es,fr.")] = None,
    language: Annotated[Optional[str], typer.Option("--language", "-l", metavar="LANG", help="Spoken language (default: detected).")] = None,
    server: Annotated[Optional[str], _SERVER_OPTION] = None,
) -> None:
    """Send a bot into a meeting through a running server: its states and the captions are
    printed as they come; Ctrl-C makes it leave (its transcript is kept)."""
    from livetranslate.client import Client, ClientError

    body = {"targets": _codes(to)} | ({"bot_name": name} if name else {})
    if language is not None:
        body["language"] = next(iter(_codes(language)), None)
    with Client(_server(server)) as lt:
        try:
            bot = lt.create_bot(url, **body)
            err.print(f"bot {bot['id']} is joining {bot['meeting_id']} (session {bot['session_id']})")
            _follow_bot(lt, bot)
        except ClientError as e:
            _fail(e.message, 1)


def _follow_bot(lt, bot: dict) -> None:
    """Print the bot's moves and its session's finals until it is done."""
    import threading

    seen = 1
    stop = threading.Event()

    def watch() -> None:
        nonlocal seen
        while not stop.wait(1.0):
            now = lt.bot(bot["id"])
            for change in now["status_changes"][seen:]:
                reason = f" ({change['sub_code']})" if change["sub_code"] else ""
                err.print(f"· {change['new']}{reason}{': ' + change['message'] if change['message'] else ''}")
            seen = len(now["status_changes"])
            if now["status"]["code"] in ("done", "fatal"):
                return

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        for e in lt.events(bot["session_id"]):
            if e.type == "segment" and e.status == "final" and e.text:
                print(_caption(e), flush=True)
            elif e.type == "translation" and e.status == "final" and e.text:
                print(f"    {e.lang}: {e.text}", flush=True)
    except KeyboardInterrupt:
        err.print("asking the bot to leave…")
        lt.leave_bot(bot["id"])
    watcher.join(30)
    stop.set()


@bot_app.command("list")
def bot_list(
    status: Annotated[Optional[str], typer.Option("--status", metavar="STATES", help="Only these states, comma-separated.")] = None,
    server: Annotated[Optional[str], _SERVER_OPTION] = None,
) -> None:
    """The bots the server sent, newest first."""
    from rich.table import Table

    from livetranslate.client import Client, ClientError

    with Client(_server(server)) as lt:
        try:
            page = lt.bots(status=status, limit=100)
        except ClientError as e:
            _fail(e.message, 1)
    table = Table("id", "meeting", "name", "state", "sent")
    for b in page["items"]:
        code = b["status"]["code"] + (f" ({b['status']['sub_code']})" if b["status"]["sub_code"] else "")
        table.add_row(b["id"], b["meeting_id"], b["bot_name"], code, b["created_at"][:19].replace("T", " "))
    Console().print(table)


_BOT_ID = typer.Argument(metavar="ID", help="The bot (see `livetranslate bot list`).")


@bot_app.command("leave")
def bot_leave(bot_id: Annotated[str, _BOT_ID], server: Annotated[Optional[str], _SERVER_OPTION] = None) -> None:
    """Make a bot leave its meeting (a scheduled one is cancelled)."""
    _bot_call(server, bot_id, "leave_bot")


@bot_app.command("pause")
def bot_pause(bot_id: Annotated[str, _BOT_ID], server: Annotated[Optional[str], _SERVER_OPTION] = None) -> None:
    """Pause a bot's captions: it stays in the call, nothing it hears is kept until resumed."""
    _bot_call(server, bot_id, "pause_bot")


@bot_app.command("resume")
def bot_resume(bot_id: Annotated[str, _BOT_ID], server: Annotated[Optional[str], _SERVER_OPTION] = None) -> None:
    """Resume a paused bot's captions, in the same session."""
    _bot_call(server, bot_id, "resume_bot")


def _bot_call(server: str | None, bot_id: str, method: str) -> None:
    from livetranslate.client import Client, ClientError

    with Client(_server(server)) as lt:
        try:
            bot = getattr(lt, method)(bot_id)
        except ClientError as e:
            _fail(e.message, 1)
    err.print(f"bot {bot_id}: {bot['status']['code']}")


@bot_app.command("worker", hidden=True)
def bot_worker() -> None:
    """One bot's browser (started by the server; its spec on stdin, its reports on stdout)."""
    from livetranslate.bots.worker import main as worker_main

    raise typer.Exit(worker_main())


# --- API keys


def _keys_db():
    from livetranslate.store import Database
    from livetranslate.store.migrate import upgrade

    settings = get_settings()
    upgrade(settings.database_url)
    return Database(settings.database_url)


def _audited(db, tenant: str, action: str, target: str, **detail) -> None:
    """Into the audit log, as done by the CLI (on the store: no key)."""
    from livetranslate.audit import event
    from livetranslate.store.audit import add_event

    db.call(add_event, row=event(tenant=tenant, key_id=None, via="cli", action=action, target=target, detail=detail))


@keys_app.command("create")
def keys_create(
    tenant: Annotated[str, typer.Option(help="The tenant the key belongs to (made if new): it reaches that "
                                             "tenant's sessions, bots and voiceprints only. An open server's "
                                             "data is tenant default's.")],
    role: Annotated[str, typer.Option(help="viewer (reads), member (also creates and changes), admin (also keys "
                                           "and settings).")] = "member",
    name: Annotated[Optional[str], typer.Option(help="A label, e.g. who uses it.")] = None,
    expires: Annotated[Optional[str], typer.Option(metavar="TTL", help="How long it lasts: 90d, 12h, 30m.")] = None,
) -> None:
    """Make a key and print it (once: the server keeps only its hash)."""
    from livetranslate.auth import ROLES, create_key, parse_ttl

    if role not in ROLES:
        _fail(f"--role must be one of {', '.join(ROLES)}, not {role!r}", 2)
    try:
        ttl = parse_ttl(expires) if expires else None
    except ValueError as e:
        _fail(str(e), 2)
    db = _keys_db()
    row, key = db.call(create_key, tenant=tenant, role=role, name=name, ttl=ttl)
    _audited(db, row.tenant_id, "key.create", row.id, role=role, name=name)
    err.print(f"key {row.id} for tenant {tenant!r}, role {role}"
              + (f", expires {row.expires_at:%Y-%m-%d %H:%M} UTC" if row.expires_at else "")
              + ". It is shown this once:")
    print(key)


@keys_app.command("list")
def keys_list() -> None:
    """Every key: id, tenant, role, label, when made, last used, expired or revoked."""
    from datetime import datetime, timezone

    from rich.table import Table

    from livetranslate.store import as_utc
    from livetranslate.store.keys import list_keys

    table = Table("id", "tenant", "role", "name", "key", "created", "last used", "state")
    now = datetime.now(timezone.utc)
    for k, t in _keys_db().call(list_keys, tenant_id=None):
        expires = as_utc(k.expires_at)
        state = ("revoked" if k.revoked_at else "expired" if expires and expires <= now
                 else f"expires {expires:%Y-%m-%d}" if expires else "active")
        table.add_row(k.id, t.name, k.role, k.name or "", k.hint + "…", f"{as_utc(k.created_at):%Y-%m-%d %H:%M}",
                      f"{as_utc(k.last_used_at):%Y-%m-%d %H:%M}" if k.last_used_at else "never", state)
    Console().print(table)


@keys_app.command("revoke")
def keys_revoke(key_id: Annotated[str, typer.Argument(metavar="ID", help="The key (see `livetranslate keys list`).")]) -> None:
    """Revoke a key: refused from then on (a running server may take up to 5 s to notice)."""
    from livetranslate.errors import NotFound
    from livetranslate.store.keys import revoke

    db = _keys_db()
    try:
        row = db.call(revoke, key_id=key_id, tenant_id=None)
    except NotFound as e:
        _fail(e.message, 1)
    _audited(db, row.tenant_id, "key.revoke", key_id)
    err.print(f"key {key_id}: revoked")


_LIMIT_FLAGS = {
    "key_requests_per_s": "requests a second of each of its keys",
    "requests_per_s": "requests a second of all its keys together",
    "live_sessions": "its sessions live at once",
    "bots": "its bots at once",
    "audio_hours_per_day": "hours of audio its sessions take in a UTC day",
    "upload_bytes": "largest file it may upload",
}


def _limits_text(own: dict | None) -> str:
    return ", ".join(f"{k}={v}" for k, v in (own or {}).items()) or "the server's"


@tenants_app.command("list")
def tenants_list() -> None:
    """Every tenant: id, name, when made, its own limits."""
    from rich.table import Table

    from livetranslate.store import as_utc
    from livetranslate.store.keys import tenants

    table = Table("id", "name", "created", "limits")
    for t in _keys_db().call(tenants):
        table.add_row(t.id, t.name, f"{as_utc(t.created_at):%Y-%m-%d %H:%M}", _limits_text(t.limits))
    Console().print(table)


@tenants_app.command("limits")
def tenants_limits(
    name: Annotated[str, typer.Argument(metavar="NAME", help="The tenant (see `livetranslate tenants list`).")],
    key_requests_per_s: Annotated[Optional[int], typer.Option(help=_LIMIT_FLAGS["key_requests_per_s"])] = None,
    requests_per_s: Annotated[Optional[int], typer.Option(help=_LIMIT_FLAGS["requests_per_s"])] = None,
    live_sessions: Annotated[Optional[int], typer.Option(help=_LIMIT_FLAGS["live_sessions"])] = None,
    bots: Annotated[Optional[int], typer.Option(help=_LIMIT_FLAGS["bots"])] = None,
    audio_hours_per_day: Annotated[Optional[float], typer.Option(help=_LIMIT_FLAGS["audio_hours_per_day"])] = None,
    upload_bytes: Annotated[Optional[int], typer.Option(help=_LIMIT_FLAGS["upload_bytes"])] = None,
    reset: Annotated[bool, typer.Option("--reset", help="Drop its own limits first (the server's apply).")] = False,
) -> None:
    """Show a tenant's own limits, or set some (the others keep theirs). A running server uses
    them within 5 s."""
    given = {k: v for k, v in locals().items() if k in _LIMIT_FLAGS and v is not None}  # the flags given
    from pydantic import ValidationError

    from livetranslate.errors import NotFound
    from livetranslate.quotas import TenantLimits
    from livetranslate.store.keys import set_tenant_limits, tenant

    db = _keys_db()
    try:
        row = db.call(tenant, name=name)
        if given or reset:
            try:
                own = TenantLimits.model_validate({**({} if reset else row.limits or {}), **given})
            except ValidationError as e:
                _fail("; ".join(f"--{str(x['loc'][0]).replace('_', '-')}: {x['msg']}" for x in e.errors()), 2)
            row = db.call(set_tenant_limits, name=name, limits=own.model_dump(exclude_none=True))
    except NotFound as e:
        _fail(e.message, 1)
    err.print(f"tenant {name!r}: {_limits_text(row.limits)}")
