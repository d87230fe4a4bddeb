#!/bin/sh
# Removal keeps /etc/flowrt and the state in /var/lib/flowrt (definitions
# made over REST); "dpkg --purge" deletes the state and the flowrt user.
# Files the admin added to /etc/flowrt stay (dpkg says so).
set -e
case "$1" in
  purge)
    rm -rf /var/lib/flowrt
    if getent passwd flowrt >/dev/null; then
      userdel flowrt || echo "flowrt: could not delete the flowrt user; userdel flowrt" >&2
    fi
    if getent group flowrt >/dev/null; then
      groupdel flowrt >/dev/null 2>&1 || true
    fi
    ;;
esac
if [ -d /run/systemd/system ]; then
  systemctl daemon-reload || true
fi
