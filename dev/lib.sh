# Shared set-up for dev/demo.sh and dev/test.sh. Sourced, not run.
# Installs only what is missing, so a second run is fast and needs no network.

set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# Debian 12 packages the build, the app and the tests need.
SYSTEM_PACKAGES=(
    build-essential pkg-config            # C toolchain for -sys crates
    libgtk-4-dev libadwaita-1-dev libgtksourceview-5-dev  # the desktop app and its script editor
    libdbus-1-dev                         # keyring (Secret Service over D-Bus)
    postgresql                            # embedded default database + test server
    protobuf-compiler                     # the simulator's .proto schema
    xvfb xauth                            # GUI tests and screenshots without a screen
    dbus dbus-x11 gnome-keyring           # a session bus and a real keyring for tests
    python3 python3-venv                  # the official IB Python API in tests
    desktop-file-utils appstream          # validating the .desktop file and metainfo in tests
    at-spi2-core python3-pyatspi          # reading the window's accessibility tree in tests
)

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

install_system_packages() {
    local missing=() pkg
    for pkg in "${SYSTEM_PACKAGES[@]}"; do
        if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
            missing+=("$pkg")
        fi
    done
    if [ ${#missing[@]} -gt 0 ]; then
        log "installing system packages: ${missing[*]}"
        as_root apt-get update -qq
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null
    fi
    if ! command -v cargo >/dev/null 2>&1; then
        echo "cargo not found: install Rust (https://rustup.rs) and run this again" >&2
        exit 1
    fi
}

# Starts the Debian PostgreSQL cluster if nothing listens on 127.0.0.1:5432, and exports a
# DATABASE_URL for a superuser (tests create one database each).
ensure_test_postgres() {
    if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
        local version
        version="$(ls /usr/lib/postgresql | sort -V | tail -n 1)"
        if ! pg_lsclusters -h 2>/dev/null | grep -q .; then
            log "creating PostgreSQL $version cluster"
            as_root pg_createcluster "$version" main >/dev/null
        fi
        local cluster
        cluster="$(pg_lsclusters -h | awk 'NR==1 {print $1" "$2}')"
        log "starting PostgreSQL cluster $cluster"
        # shellcheck disable=SC2086
        as_root pg_ctlcluster --skip-systemctl-redirect $cluster start || true
        for _ in $(seq 1 60); do
            pg_isready -q -h 127.0.0.1 -p 5432 && break
            sleep 0.5
        done
        pg_isready -q -h 127.0.0.1 -p 5432 || { echo "PostgreSQL did not start" >&2; exit 1; }
    fi
    if psql -w -h 127.0.0.1 -U postgres -d postgres -Atc 'SELECT 1' >/dev/null 2>&1; then
        export DATABASE_URL="postgres://postgres@127.0.0.1:5432/postgres"
    else
        # Debian's default: peer auth on the socket. Make a superuser role for this OS user.
        local me
        me="$(id -un)"
        if ! as_root runuser -u postgres -- psql -Atc "SELECT 1 FROM pg_roles WHERE rolname = '$me'" | grep -q 1; then
            as_root runuser -u postgres -- psql -qc "CREATE ROLE \"$me\" SUPERUSER LOGIN"
        fi
        export DATABASE_URL="postgres://$me@localhost/postgres?host=/var/run/postgresql"
    fi
}

# A virtualenv with the official IB Python API, for the simulator's fidelity tests.
ensure_python_ibapi() {
    local venv="$REPO/target/pyvenv"
    if ! "$venv/bin/python" -c 'import ibapi' >/dev/null 2>&1; then
        log "installing ibapi-stable 10.50.2 into $venv"
        python3 -m venv "$venv"
        "$venv/bin/pip" install -q --disable-pip-version-check ibapi-stable==10.50.2
    fi
    export TICKWORK_TEST_PYTHON="$venv/bin/python"
}
