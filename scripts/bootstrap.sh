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
# better-sqlite3 (sqlfs's SQLite) is built from source by node-gyp: say what is missing, plainly.
for tool in python3 make g++; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "bootstrap: $tool is missing; node-gyp builds better-sqlite3 with python3, make and g++ (Debian: apt-get install python3 make g++, or .ci/debian-packages as root)" >&2
    exit 1
  fi
done
pnpm install --frozen-lockfile --reporter=silent 2>/dev/null || pnpm install --reporter=silent
pnpm exec turbo run build --output-logs=errors-only
