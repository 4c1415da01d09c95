#!/usr/bin/env bash
# build-etcd.sh builds etcd from the Go module proxy into bin/k8s/.
set -euo pipefail

ETCD_VERSION="${ETCD_VERSION:-v3.6.16}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
OUT="${ROOT}/bin/k8s"
BIN="${OUT}/etcd"
STAMP="${OUT}/.etcd-${ETCD_VERSION}"

if [[ -x "${BIN}" && -f "${STAMP}" ]]; then
	exit 0
fi

WORK="$(mktemp -d)"
trap 'rm -rf "${WORK}"' EXIT
cd "${WORK}"
go mod init ironlb.local/etcd-build >/dev/null 2>&1
cat > main.go <<'GO'
// Command etcd runs the etcd server; ironlb's tests use it under kube-apiserver.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
GO
go mod edit -require "go.etcd.io/etcd/server/v3@${ETCD_VERSION}"
echo "build-etcd: resolving modules for ${ETCD_VERSION}" >&2
go mod tidy >/dev/null
echo "build-etcd: building" >&2
mkdir -p "${OUT}"
CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "${BIN}.tmp" .
mv "${BIN}.tmp" "${BIN}"
rm -f "${OUT}"/.etcd-*
touch "${STAMP}"
