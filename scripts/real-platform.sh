#!/usr/bin/env bash
# npm run test:real-platform: builds, then runs build/test/real-platform/**/*.spec.js against the
# real Molecule platform server started by ../shared/real-platform/run (which needs root and
# network namespaces). Two servers: one with the default liveness window for everything else, one
# with a 3 s window so the offline scenarios end within one sweep (15 s) or two.
set -euo pipefail
cd "$(dirname "$0")/.."
RUN=${REAL_PLATFORM_RUN:-../shared/real-platform/run}
if [ ! -x "$RUN" ]; then
  cat >&2 <<MSG
test:real-platform: the real platform bundle is missing: no executable $RUN.
It holds the real Molecule workspace-server, its migrations, an agent stub and the 'run' script
that starts them with Postgres and Redis in a private network namespace. It is not part of this
repository: place it (the shared/real-platform folder the team distributes) next to this clone
as ../shared/real-platform, or point REAL_PLATFORM_RUN at its 'run' script; then check the
prerequisites with '$RUN --check'.
MSG
  exit 1
fi
# inside the namespace there is no network: build first
npm run build:all
specs=$(find build/test/real-platform -name "*.spec.js" | sort)
status=0
# one spec file at a time: the module tests count the heartbeats in the server log
# shellcheck disable=SC2086
REMOTE_LIVENESS_STALE_AFTER=90 "$RUN" -- node --test --test-concurrency=1 --test-reporter=spec $specs ||
  status=$?
REMOTE_LIVENESS_STALE_AFTER=3 "$RUN" -- node --test --test-reporter=spec \
  build/test/real-platform/conformance.spec.js || status=$?
exit "$status"
