# Shared by scripts/demo and scripts/test: find Python 3.11+, create .venv, install the project.
# Usage: source scripts/_venv.sh EXTRAS   (EXTRAS is "" or "[test]")

apt_install() {
    # Install Debian packages when they are missing: directly as root, else with sudo if it works.
    [ $# -gt 0 ] || return 0
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
    elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
        sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
    else
        echo "redfix-tui: please install: sudo apt-get install -y $*" >&2
        exit 1
    fi
}

PYTHON=""
for candidate in python3.13 python3.12 python3.11 python3; do
    if command -v "$candidate" >/dev/null &&
        "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
        PYTHON=$candidate
        break
    fi
done
if [ -z "$PYTHON" ]; then
    echo "redfix-tui: needs Python 3.11 or newer (apt-get install python3)" >&2
    exit 1
fi
if [ ! -x .venv/bin/python ] || ! .venv/bin/python -m pip --version >/dev/null 2>&1; then
    # None yet, or one left half-made by an interrupted run: (re)create it.
    rm -rf .venv
    if ! "$PYTHON" -c 'import ensurepip, venv' 2>/dev/null; then
        apt_install python3-venv
    fi
    "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".$1"
