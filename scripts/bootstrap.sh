#!/bin/sh
# Sets the workspace up on a machine that has only Node and npm: pnpm 10 (through npm, since
# corepack cannot download here), the dependencies, and the build. Safe to run again.
set -e
cd "$(dirname "$0")/.."
PNPM_VERSION=10.34.9
if ! command -v pnpm >/dev/null 2>&1 || ! pnpm -v 2>/dev/null | grep -q '^10\.'; then
  echo "bootstrap: installing pnpm $PNPM_VERSION with npm" >&2
  if ! npm install -g "pnpm@$PNPM_VERSION" >/dev/null 2>&1; then
    # No write access to the global prefix: install into the repository instead.
    npm install --prefix .tools "pnpm@$PNPM_VERSION" >/dev/null
    PATH="$PWD/.tools/node_modules/.bin:$PATH"
    export PATH
  fi
fi
# better-sqlite3 (sqlfs's SQLite) is built from source by node-gyp with python3, make and g++. As
# root on Debian they are installed when missing (as .ci/debian-packages does); elsewhere, say so.
missing=""
for tool in python3 make g++; do
  command -v "$tool" >/dev/null 2>&1 || missing="$missing $tool"
done
if [ -n "$missing" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "bootstrap: installing$missing with apt-get (node-gyp builds better-sqlite3 with them)" >&2
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3 make g++ >/dev/null
elif [ -n "$missing" ]; then
  echo "bootstrap:$missing missing; node-gyp builds better-sqlite3 with python3, make and g++ (Debian: apt-get install python3 make g++)" >&2
  exit 1
fi
pnpm install --frozen-lockfile --reporter=silent 2>/dev/null || pnpm install --reporter=silent
pnpm exec turbo run build --output-logs=errors-only
