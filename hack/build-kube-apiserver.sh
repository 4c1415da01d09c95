#!/usr/bin/env bash
# build-kube-apiserver.sh builds kube-apiserver from the Go module proxy into
# bin/k8s/ (the layout envtest expects in KUBEBUILDER_ASSETS). Kubernetes'
# staging modules are replaced by the published k8s.io modules of the
# matching v0.x version, since the proxy's zip of k8s.io/kubernetes has no
# staging tree.
set -euo pipefail

K8S_VERSION="${K8S_VERSION:-v1.37.2}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
OUT="${ROOT}/bin/k8s"
BIN="${OUT}/kube-apiserver"

if [[ -x "${BIN}" ]] && "${BIN}" --version 2>/dev/null | grep -qx "Kubernetes ${K8S_VERSION}"; then
	exit 0
fi

STAGING_VERSION="v0.${K8S_VERSION#v1.}"
WORK="$(mktemp -d)"
trap 'rm -rf "${WORK}"' EXIT
cd "${WORK}"

go mod init ironlb.local/kube-apiserver-build >/dev/null 2>&1
MODFILE="$(go mod download -json "k8s.io/kubernetes@${K8S_VERSION}" | sed -n 's/.*"GoMod": "\(.*\)",/\1/p')"
[[ -f "${MODFILE}" ]] || { echo "build-kube-apiserver: no go.mod for k8s.io/kubernetes@${K8S_VERSION}" >&2; exit 1; }

go mod edit -require "k8s.io/kubernetes@${K8S_VERSION}"
sed -n 's#^[[:space:]]*\(k8s.io/[a-z0-9-]*\) => ./staging/src/.*#\1#p' "${MODFILE}" | while read -r mod; do
	go mod edit -replace "${mod}=${mod}@${STAGING_VERSION}"
done
cat > tools.go <<'GO'
//go:build tools

package tools

import _ "k8s.io/kubernetes/cmd/kube-apiserver"
GO
echo "build-kube-apiserver: resolving modules for ${K8S_VERSION}" >&2
go mod tidy >/dev/null

LDPKG="k8s.io/component-base/version"
LDFLAGS="-s -w -X ${LDPKG}.gitVersion=${K8S_VERSION} -X ${LDPKG}.gitMajor=1 -X ${LDPKG}.gitMinor=$(echo "${K8S_VERSION}" | cut -d. -f2) -X ${LDPKG}.gitTreeState=clean"
echo "build-kube-apiserver: building (several minutes on a cold cache)" >&2
mkdir -p "${OUT}"
CGO_ENABLED=0 go build -trimpath -ldflags "${LDFLAGS}" -o "${BIN}.tmp" k8s.io/kubernetes/cmd/kube-apiserver
mv "${BIN}.tmp" "${BIN}"
"${BIN}" --version
