#!/usr/bin/env bash
# Installs Debian's docker-compose (1.29, Python), which test/docker-compose.test.ts
# uses to validate docker-compose.local.yml with `docker-compose config`. That
# command needs no Docker engine. Idempotent: nothing happens when it is there.
#
# Installs only as root with apt-get (as CI runs); otherwise prints how.
set -euo pipefail
if command -v docker-compose >/dev/null; then
  echo "setup-compose: docker-compose $(docker-compose version --short) ready"
  exit 0
fi
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
  # A fresh machine has no package lists yet.
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker-compose >/dev/null
  echo "setup-compose: installed docker-compose $(docker-compose version --short)"
  exit 0
fi
echo "setup-compose: docker-compose is missing and was not installed (needs root and apt-get)." >&2
echo "setup-compose: install it with: sudo apt-get update && sudo apt-get install -y docker-compose" >&2
echo "setup-compose: without it, test/docker-compose.test.ts fails." >&2
