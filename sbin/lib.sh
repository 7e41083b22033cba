# Shared by the sbin/ scripts: package installation and the build.
# Source it; it defines functions and QUARRY_ROOT / QUARRY_BUILD.

QUARRY_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
QUARRY_BUILD="${QUARRY_BUILD:-$QUARRY_ROOT/build}"

# Debian packages needed to build the binaries (-DQUARRY_BUILD_TESTS=OFF):
# all the Dockerfile's build stage installs.
QUARRY_BUILD_PACKAGES=(
  cmake g++ ninja-build pkgconf
  libgrpc++-dev protobuf-compiler-grpc protobuf-compiler libprotobuf-dev
  grpc-proto libabsl-dev libgoogle-glog-dev libre2-dev libssl-dev
  libhiredis-dev libpq-dev prometheus-cpp-dev
  libgoogle-perftools-dev libcli11-dev libcpp-httplib-dev
)
# Debian packages needed to build, test and run the quickstart: the above,
# GoogleTest and the King James Bible (the corpus of examples and tests).
QUARRY_PACKAGES=(
  "${QUARRY_BUILD_PACKAGES[@]}"
  libgtest-dev libgmock-dev
  bible-kjv
)
# Only the test suite needs these: clang's thread-safety analysis and
# libFuzzer (sbin/fuzz: clang-14 and its runtimes), the chaos monkey's JSON
# handling, the real Redis and PostgreSQL servers the
# store and history tests start (sbin/test-redis, sbin/test-postgres), an
# HTTP client to scrape /metrics and run the docs/http.md examples (curl),
# the compose file check (sbin/check-deploy), the network namespaces of
# sbin/netns-cluster, the certificates of sbin/dev-certs (openssl), the
# dashboard's browser test (headless chromium driven over the DevTools
# protocol from Python) and the Python client's tests (gRPC, protobuf,
# pytest).
QUARRY_TEST_PACKAGES=(clang-14 libclang-rt-14-dev python3 jq redis-server postgresql openssl
  libcpp-httplib-dev curl docker-compose iproute2 chromium python3-websocket
  python3-grpcio python3-protobuf python3-pytest)

# What sbin/compose-test needs: a Docker engine and compose (it starts its
# own dockerd), debootstrap for the base image when none can be pulled.
QUARRY_COMPOSE_PACKAGES=(docker.io docker-compose debootstrap)

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# A TCP port that is free on loopback right now.
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_until SECONDS COMMAND...: runs COMMAND every 50 ms until it succeeds;
# fails after SECONDS.
wait_until() {
  local deadline=$((SECONDS + $1)); shift
  until "$@" >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.05
  done
}

# gone PID: the process has exited (a zombie that init has not reaped yet
# counts as gone).
gone() {
  [ ! -e "/proc/$1" ] || grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null
}

# Installs whichever of QUARRY_BUILD_PACKAGES (plus any arguments) is
# missing: the Dockerfile's build stage.
install_build_packages() {
  install_missing "${QUARRY_BUILD_PACKAGES[@]}" "$@"
}

# Installs whichever of QUARRY_PACKAGES (plus any arguments) is missing.
install_packages() {
  install_missing "${QUARRY_PACKAGES[@]}" "$@"
}

# install_missing PACKAGE...: apt-get installs those not installed yet.
install_missing() {
  local wanted=("$@") missing=()
  local pkg
  for pkg in "${wanted[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" \
      || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing ${missing[*]}"
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || die "need root (or sudo) to install: ${missing[*]}"
    sudo=(sudo)
  fi
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
}

# make_bible_corpus DIR FILES TEXT: writes the King James Bible (Debian's
# bible-kjv) to TEXT and splits it by lines into FILES files
# DIR/kjv-NNNNN.txt.
make_bible_corpus() {
  local dir="$1" files="$2" text="$3"
  bible -f "Gen1:1-Rev22:21" >"$text"
  mkdir -p "$dir"
  (cd "$dir" && split -n "l/$files" -d -a 5 --additional-suffix=.txt "$text" kjv-)
}

# reference_wordcount TEXT OUT: the word count of TEXT by a single process,
# in the format of a wordcount job's result.tsv (an independent oracle).
reference_wordcount() {
  LC_ALL=C tr -c 'A-Za-z' '\n' <"$1" | tr 'A-Z' 'a-z' | grep -v '^$' \
    | LC_ALL=C sort | uniq -c | awk '{print $2 "\t" $1}' \
    | LC_ALL=C sort -t "$(printf '\t')" -k2,2nr -k1,1 >"$2"
}

# Configures (once) and builds everything into $QUARRY_BUILD.
build() {
  # Configure every time (a second or two): tools installed since the last
  # run (clang for the thread-safety test) are then found.
  log "configuring $QUARRY_BUILD"
  cmake -S "$QUARRY_ROOT" -B "$QUARRY_BUILD" -G Ninja \
    -DCMAKE_BUILD_TYPE="${QUARRY_BUILD_TYPE:-RelWithDebInfo}" "$@" >/dev/null
  log "building (ninja -C $QUARRY_BUILD)"
  ninja -C "$QUARRY_BUILD" -j"$(nproc)" || die "build failed"
}
