#!/usr/bin/env bash
# The whole test suite on a fresh machine: installs what the tests need, builds, runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v etcd >/dev/null 2>&1 || need+=(etcd-server)
command -v etcdctl >/dev/null 2>&1 || need+=(etcd-client)
/usr/bin/python3 -c 'import etcd' >/dev/null 2>&1 || need+=(python3-etcd)
command -v wrk >/dev/null 2>&1 || need+=(wrk)
command -v ip >/dev/null 2>&1 || need+=(iproute2)
if [ ${#need[@]} -gt 0 ]; then
  echo "test-all: installing ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

npm ci --no-audit --no-fund
npm test
