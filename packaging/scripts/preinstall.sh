#!/bin/sh
# Creates the flowrt system user the engine's service runs as (no login,
# no home made: systemd creates /var/lib/flowrt for it). Starts nothing.
set -e
if ! getent passwd flowrt >/dev/null; then
  useradd --system --user-group --home-dir /var/lib/flowrt --no-create-home \
    --shell /usr/sbin/nologin --comment "flowrt sFlow analytics" flowrt
fi
