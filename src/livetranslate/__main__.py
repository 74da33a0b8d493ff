from livetranslate.cli import app

app(prog_name="livetranslate")
