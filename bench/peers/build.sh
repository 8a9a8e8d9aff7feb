#!/usr/bin/env bash
# Part of `npm run bench:build`: installs each peer's pinned dependencies into its own node_modules (again whenever its
# package-lock.json is newer than the install), then compiles it with the root's TypeScript against them.
set -euo pipefail
cd "$(dirname "$0")"
for peer in golevelup nest-microservices; do
  if [ ! "$peer/node_modules/.package-lock.json" -nt "$peer/package-lock.json" ]; then
    npm ci --prefix "$peer" --no-audit --no-fund --loglevel=error
  fi
  ../../node_modules/.bin/tsc -p "$peer/tsconfig.json"
done
