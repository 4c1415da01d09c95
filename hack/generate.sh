#!/usr/bin/env bash
# generate.sh writes the generated deepcopy code and CRD manifests.
# With an argument, CRDs go to that folder instead (the staleness test uses it).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CRD_DIR="${1:-${ROOT}/charts/ironlb/crds}"
cd "${ROOT}"
go tool controller-gen object paths=./api/...
go tool controller-gen crd:crdVersions=v1 paths=./api/... output:crd:dir="${CRD_DIR}"
