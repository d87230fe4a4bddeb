#!/bin/sh
# Makes systemd see the new units; neither enables nor starts them: the
# admin does (systemctl enable --now flowrt) once the configuration is right.
set -e
if [ -d /run/systemd/system ]; then
  systemctl daemon-reload || true
fi
