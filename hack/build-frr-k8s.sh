#!/usr/bin/env bash
# build-frr-k8s.sh builds frr-k8s's node daemon (cmd/frr-k8s-controller)
# from the Go module proxy, and copies its FRR reloader script
# (frr-tools/reloader/frr-reloader.sh) beside it, into
# bin/frr-k8s/<version>/. The e2e test of ironlb's frr-k8s mode runs both
# per lab node. Nothing is rebuilt when the version's binary is there.
# FRRK8S_OUT overrides the parent folder (bin/frr-k8s).
set -euo pipefail

FRRK8S_VERSION="${FRRK8S_VERSION:-v0.0.21}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
OUT="${FRRK8S_OUT:-${ROOT}/bin/frr-k8s}/${FRRK8S_VERSION}"
BIN="${OUT}/frr-k8s-controller"
RELOADER="${OUT}/frr-reloader.sh"

if [[ -x "${BIN}" && -f "${RELOADER}" ]]; then
	exit 0
fi

MOD="github.com/metallb/frr-k8s"
echo "build-frr-k8s: fetching ${MOD}@${FRRK8S_VERSION}" >&2
DIR="$(go mod download -json "${MOD}@${FRRK8S_VERSION}" | sed -n 's/.*"Dir": "\(.*\)",/\1/p')"
[[ -d "${DIR}" ]] || { echo "build-frr-k8s: no source for ${MOD}@${FRRK8S_VERSION}" >&2; exit 1; }

mkdir -p "${OUT}"
echo "build-frr-k8s: building frr-k8s-controller (minutes on a cold cache)" >&2
# go install of a versioned package builds it with the module's own
# go.mod and go.sum, as its release does.
GOBIN_TMP="$(mktemp -d)"
trap 'rm -rf "${GOBIN_TMP}"' EXIT
CGO_ENABLED=0 GOBIN="${GOBIN_TMP}" GOFLAGS=-buildvcs=false go install -trimpath -ldflags "-s -w" "${MOD}/cmd/frr-k8s-controller@${FRRK8S_VERSION}"
install -m 0755 "${DIR}/frr-tools/reloader/frr-reloader.sh" "${RELOADER}.tmp"
mv "${RELOADER}.tmp" "${RELOADER}"
mv "${GOBIN_TMP}/frr-k8s-controller" "${BIN}"
echo "build-frr-k8s: ${BIN}" >&2
