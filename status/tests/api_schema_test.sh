#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# status/tests/api_schema_test.sh (under with_page.sh): schemathesis (PyPI, in .venv-test) makes
# requests from ../openapi.yaml, valid and not, and checks every answer against it: no server
# error, the documented status codes, content types and response schemas, and invalid input
# refused. It prints the seed of a failing run for `schemathesis run --seed`.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
ST="$ROOT/.venv-test/bin/schemathesis"
[[ -x "$ST" ]] || { echo "api_schema_test: run scripts/install-deps (schemathesis into .venv-test)" >&2; exit 1; }
exec "$ST" run --url "$STATUS_PAGE_URL" "$STATUS_PAGE_URL/api/openapi.yaml" --max-examples 200 --checks all
