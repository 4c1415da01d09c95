#!/usr/bin/env bash
# build-helm.sh installs the helm CLI from the Go module proxy into bin/,
# for the chart tests (lint, template). It does nothing when bin/helm is
# already that version.
set -euo pipefail

HELM_VERSION="${HELM_VERSION:-v3.22.0}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
OUT="${ROOT}/bin"
BIN="${OUT}/helm"

if [[ -x "${BIN}" ]]; then
	# The module version `go install` recorded in the binary.
	have="$(go version -m "${BIN}" 2>/dev/null | awk '$1 == "mod" && $2 == "helm.sh/helm/v3" {print $3}')"
	if [[ "${have}" == "${HELM_VERSION}" ]]; then
		exit 0
	fi
fi

mkdir -p "${OUT}"
# Built outside the repository, so ironlb's go.mod is neither read nor changed.
WORK="$(mktemp -d)"
trap 'rm -rf "${WORK}"' EXIT
cd "${WORK}"
echo "build-helm: installing helm ${HELM_VERSION}" >&2
GOBIN="${OUT}" GOFLAGS=-trimpath CGO_ENABLED=0 go install "helm.sh/helm/v3/cmd/helm@${HELM_VERSION}"
