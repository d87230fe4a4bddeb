#!/bin/sh
# On removal (deb "remove", rpm erase: 0 left), stops and disables the
# units so that nothing runs the deleted binary and no enablement links
# are left behind; upgrades leave the services as they are.
set -e
case "$1" in
  remove|0)
    if command -v systemctl >/dev/null 2>&1; then
      if [ -d /run/systemd/system ]; then
        systemctl stop flowrt.service flowrt-agent.service || true
      fi
      systemctl --no-reload disable flowrt.service flowrt-agent.service >/dev/null 2>&1 || true
    fi
    ;;
esac
