#!/usr/bin/env bash
# The README's quick start: `bash scripts/quickstart.sh demo` or `bash scripts/quickstart.sh test`.
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-}" in
  demo) bash scripts/prereqs.sh && exec npm start ;;
  test) bash scripts/prereqs.sh && exec npm test ;;
  *) echo "usage: bash scripts/quickstart.sh demo|test" >&2; exit 2 ;;
esac
