#!/usr/bin/env bash
# Debian packages LiveTranslate needs. PyAV wheels bundle FFmpeg and the Whisper models ship on
# PyPI; offline translation is Apertium and its language pairs (Debian only, no wheels).
# `make test` adds real speech (pocketsphinx-testdata), a speech synthesizer (espeak-ng) and a
# browser for the dashboard tests (chromium, driven by Playwright).
#   scripts/system-deps.sh run|test
# `run` without root: warns and goes on (the server starts; /v1/languages shows no offline engine).
set -euo pipefail
translation=(apertium apertium-eng-spa apertium-eng-cat apertium-en-gl apertium-eo-en apertium-fr-es
             apertium-es-pt apertium-spa-ita)
bots=(chromium xvfb xdotool)
case "${1:-run}" in
  run)  packages=("${translation[@]}" "${bots[@]}") ;;
  test) packages=("${translation[@]}" "${bots[@]}" pocketsphinx-testdata espeak-ng) ;;
  *) echo "usage: $0 run|test" >&2; exit 2 ;;
esac
[ ${#packages[@]} -eq 0 ] && exit 0

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then SUDO=""; elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then SUDO="sudo"; else
  echo "LiveTranslate needs these Debian packages: ${missing[*]}" >&2
  echo "Install them as root:  apt-get install -y ${missing[*]}" >&2
  [ "${1:-run}" = run ] && { echo "(starting anyway: offline translation and bots are unavailable until then)" >&2; exit 0; }
  exit 1
fi
echo "installing Debian packages: ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
