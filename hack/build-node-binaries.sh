#!/usr/bin/env bash
# build-node-binaries.sh builds the node and control-plane binaries of the
# lab's real-nodes mode (kubelet, kube-proxy, kube-scheduler,
# kube-controller-manager and kubectl) from the Go module proxy into
# bin/node/. As in build-kube-apiserver.sh, Kubernetes' staging modules are
# replaced by the published k8s.io modules of the matching v0.x version. All
# five come from one tidied module and one `go build`, so the packages they
# share compile once.
#
# The result is cached: bin/node/STAMP holds the version and the hash of this
# script, and a build whose stamp matches is skipped.
set -euo pipefail

K8S_VERSION="${K8S_VERSION:-v1.37.2}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
OUT="${ROOT}/bin/node"
CMDS=(kubelet kube-proxy kube-scheduler kube-controller-manager kubectl)
STAMP="${K8S_VERSION} $(sha256sum "$0" | cut -d' ' -f1)"

fresh() {
	[[ -f "${OUT}/STAMP" && "$(cat "${OUT}/STAMP")" == "${STAMP}" ]] || return 1
	local c
	for c in "${CMDS[@]}"; do
		[[ -x "${OUT}/${c}" ]] || return 1
	done
}
if fresh; then
	exit 0
fi

STAGING_VERSION="v0.${K8S_VERSION#v1.}"
WORK="$(mktemp -d)"
trap 'rm -rf "${WORK}"' EXIT
cd "${WORK}"

go mod init ironlb.local/node-build >/dev/null 2>&1
MODFILE="$(go mod download -json "k8s.io/kubernetes@${K8S_VERSION}" | sed -n 's/.*"GoMod": "\(.*\)",/\1/p')"
[[ -f "${MODFILE}" ]] || { echo "build-node-binaries: no go.mod for k8s.io/kubernetes@${K8S_VERSION}" >&2; exit 1; }

go mod edit -require "k8s.io/kubernetes@${K8S_VERSION}"
sed -n 's#^[[:space:]]*\(k8s.io/[a-z0-9-]*\) => ./staging/src/.*#\1#p' "${MODFILE}" | while read -r mod; do
	go mod edit -replace "${mod}=${mod}@${STAGING_VERSION}"
done
{
	printf '//go:build tools\n\npackage tools\n\nimport (\n'
	for c in "${CMDS[@]}"; do
		printf '\t_ "k8s.io/kubernetes/cmd/%s"\n' "${c}"
	done
	printf ')\n'
} > tools.go
echo "build-node-binaries: resolving modules for ${K8S_VERSION}" >&2
go mod tidy >/dev/null

LDPKG="k8s.io/component-base/version"
LDFLAGS="-s -w -X ${LDPKG}.gitVersion=${K8S_VERSION} -X ${LDPKG}.gitMajor=1 -X ${LDPKG}.gitMinor=$(echo "${K8S_VERSION}" | cut -d. -f2) -X ${LDPKG}.gitTreeState=clean"
PKGS=()
for c in "${CMDS[@]}"; do
	PKGS+=("k8s.io/kubernetes/cmd/${c}")
done
echo "build-node-binaries: building ${CMDS[*]} (several minutes on a cold cache)" >&2
mkdir -p "${WORK}/out" "${OUT}"
CGO_ENABLED=0 go build -trimpath -ldflags "${LDFLAGS}" -o "${WORK}/out/" "${PKGS[@]}"
for c in "${CMDS[@]}"; do
	mv "${WORK}/out/${c}" "${OUT}/${c}.tmp"
	mv "${OUT}/${c}.tmp" "${OUT}/${c}"
done
echo "${STAMP}" > "${OUT}/STAMP"
"${OUT}/kubelet" --version
