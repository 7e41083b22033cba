#!/bin/sh
# As the official image: `redis-server ...` listens on every address with
# protected mode off unless the arguments say otherwise.
set -e
if [ "$1" = redis-server ]; then
  shift
  set -- redis-server --protected-mode no "$@"
fi
exec "$@"
