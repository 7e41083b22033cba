# Quarry in one image: quarry-leader, quarry-worker and the quarry CLI on
# Debian 12 (bookworm). docker-compose.yml runs a whole cluster from it;
# see docs/operations.md.
#
#   docker build -t quarry .
#   docker run --rm quarry quarry --help

# ---- build: the -dev packages of sbin/lib.sh, CMake + Ninja, no tests ----
FROM debian:bookworm AS build
WORKDIR /src
COPY sbin/lib.sh sbin/lib.sh
RUN bash -c 'source sbin/lib.sh && install_packages' \
 && rm -rf /var/lib/apt/lists/*
COPY . .
RUN cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DQUARRY_BUILD_TESTS=OFF \
 && ninja -C /build quarry-leader quarry-worker quarry \
 && install -D -m 0755 -t /out /build/leader/quarry-leader \
      /build/worker/quarry-worker /build/cli/quarry

# ---- runtime: the shared libraries only, a non-root user ----
FROM debian:bookworm-slim
# Runtime libraries of the binaries (sbin/check-deploy checks this list
# against `ldd` of a fresh build, and that no -dev package slips in).
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
 && rm -rf /var/lib/apt/lists/*
# quarry-runtime-packages-end
RUN useradd --system --uid 10001 --user-group --create-home \
      --home-dir /var/lib/quarry --shell /usr/sbin/nologin quarry \
 && install -d -o quarry -g quarry /data /var/lib/quarry/attempt-logs
COPY --from=build /out/ /usr/local/bin/
USER quarry
WORKDIR /var/lib/quarry
# 7070: leader gRPC; 8080: leader HTTP (--http_listen); 7100: worker gRPC;
# 9090/9100: metrics.
EXPOSE 7070 7100 8080 9090 9100
CMD ["quarry-leader", "--listen=0.0.0.0:7070", "--insecure"]
