# Quarry in one image: quarry-leader, quarry-worker and the quarry CLI on
# Debian 12 (bookworm). docker-compose.yml runs a whole cluster from it;
# see docs/operations.md.
#
#   docker build -t quarry:latest .          # the multi-stage build (default)
#   docker run --rm quarry:latest quarry --help
#
# Targets:
#   (default)  compiles in the `build` stage and copies the three binaries
#              into the runtime image.
#   prebuilt   the runtime image plus binaries built outside Docker (same
#              Debian 12 libraries), given as a build context holding only
#              quarry-leader, quarry-worker and quarry:
#                docker build --target prebuilt -t quarry:latest \
#                  -f Dockerfile DIR_WITH_THE_THREE_BINARIES
#              sbin/compose-test does this in CI (seconds, not minutes).
# The stages are ordered so that the legacy builder, which runs every stage
# up to its target, never compiles for `prebuilt`.

# ---- runtime: the shared libraries only, a non-root user ----
FROM debian:bookworm-slim AS runtime
# Runtime libraries of the binaries (sbin/check-deploy checks this list
# against `ldd` of a fresh build, and that no -dev package slips in), and
# procps (ps, kill, top) for an operator's first look.
# quarry-runtime-packages-begin
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      ca-certificates \
      libabsl20220623 \
      libcpp-httplib0.11 \
      libgoogle-glog0v6 \
      libgrpc++1.51 \
      libhiredis0.14 \
      libpq5 \
      libprometheus-cpp-core1.0 \
      libprometheus-cpp-pull1.0 \
      libprotobuf32 \
      libre2-9 \
      libssl3 \
      libtcmalloc-minimal4 \
      procps \
 && rm -rf /var/lib/apt/lists/*
# quarry-runtime-packages-end
# uid and gid 10001 both: files on bind mounts and in the data volume are
# chown 10001:10001 (docs/operations.md).
RUN groupadd --system --gid 10001 quarry \
 && useradd --system --uid 10001 --gid 10001 --create-home \
      --home-dir /var/lib/quarry --shell /usr/sbin/nologin quarry \
 && install -d -o quarry -g quarry /data /var/lib/quarry/attempt-logs
WORKDIR /var/lib/quarry
# 7070: leader gRPC; 8080: leader HTTP (--http_listen); 7100: worker gRPC;
# 9090/9100: metrics.
EXPOSE 7070 7100 8080 9090 9100
CMD ["quarry-leader", "--listen=0.0.0.0:7070", "--insecure"]

# ---- prebuilt: binaries from outside (the context is just them) ----
# `COPY .`, not the three names: the legacy builder (docker-compose 1.x
# without BuildKit) runs this stage in a default build too, where the
# context is the source tree; the stage is then thrown away.
FROM runtime AS prebuilt
COPY . /usr/local/bin/
USER quarry

# ---- build: the build packages of sbin/lib.sh, CMake + Ninja, no tests ----
FROM debian:bookworm AS build
WORKDIR /src
COPY sbin/lib.sh sbin/lib.sh
RUN bash -c 'source sbin/lib.sh && install_build_packages' \
 && rm -rf /var/lib/apt/lists/*
COPY . .
RUN cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DQUARRY_BUILD_TESTS=OFF \
 && ninja -C /build quarry-leader quarry-worker quarry \
 && install -D -m 0755 -t /out /build/leader/quarry-leader \
      /build/worker/quarry-worker /build/cli/quarry

# ---- the default: the runtime image with the binaries built above ----
FROM runtime
COPY --from=build /out/ /usr/local/bin/
USER quarry
