#!/usr/bin/env bash
# build-node-images.sh writes the container images of the lab's real-nodes
# mode into bin/images/, as docker-save tarballs that
# `ctr -n k8s.io images import` loads (see e2e/lab/realnodes.go):
#
#   pause.tar   registry.k8s.io/pause:3.10.2, build/pause/linux/pause.c of
#               the k8s.io/kubernetes module compiled with gcc -static
#   frr.tar     ironlb.local/frr:trixie, Debian trixie's FRR (10.3) made
#               with mmdebstrap, tini, iproute2 and procps
#   ironlb-TAG.tar ironlb.local/ironlb:TAG (IRONLB_TAG, default dev), the static ironlb binary of the
#               working tree (as the Dockerfile builds it), user 65532
#
# No Docker: hack/ociimage (go-containerregistry) writes the tarballs. Each
# image is cached: bin/images/NAME.stamp holds the hash of its inputs (this
# script, and the sources for ironlb; the Kubernetes version for pause), and
# an image whose stamp matches is not rebuilt. IMAGES=ironlb limits the run.
set -euo pipefail

K8S_VERSION="${K8S_VERSION:-v1.37.2}"
PAUSE_TAG="3.10.2"
FRR_SUITE="${FRR_SUITE:-trixie}"
FRR_PACKAGES="frr,frr-pythontools,tini,iproute2,procps"
IRONLB_TAG="${IRONLB_TAG:-dev}"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
IMAGES="${IMAGES:-pause frr ironlb}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
OUT="${ROOT}/bin/images"
SCRIPT_HASH="$(cat "$0" "${ROOT}"/hack/ociimage/*.go "${ROOT}/hack/ociimage/go.mod" | sha256sum | cut -d' ' -f1)"
WORK="$(mktemp -d)"
trap 'rm -rf "${WORK}"' EXIT
mkdir -p "${OUT}"

# fresh NAME STAMP: the image exists and was built from the same inputs.
fresh() {
	[[ -f "${OUT}/$1.tar" && -f "${OUT}/$1.stamp" && "$(cat "${OUT}/$1.stamp")" == "$2" ]]
}
# finish NAME STAMP: records the inputs of a finished image.
finish() {
	mv "${OUT}/$1.tar.new" "${OUT}/$1.tar"
	echo "$2" > "${OUT}/$1.stamp"
	echo "build-node-images: wrote ${OUT}/$1.tar" >&2
}
ociimage() {
	if [[ ! -x "${WORK}/ociimage" ]]; then
		go build -C "${ROOT}/hack/ociimage" -trimpath -o "${WORK}/ociimage" .
	fi
	"${WORK}/ociimage" "$@"
}

for image in ${IMAGES}; do
	case "${image}" in
	pause)
		stamp="${SCRIPT_HASH} ${K8S_VERSION} ${PAUSE_TAG}"
		fresh pause "${stamp}" && continue
		src="$(go mod download -json "k8s.io/kubernetes@${K8S_VERSION}" | sed -n 's/.*"Dir": "\(.*\)",/\1/p')/build/pause/linux/pause.c"
		gcc -Os -Wall -Werror -static -DVERSION="v${PAUSE_TAG}-ironlb" -o "${WORK}/pause" "${src}"
		ociimage -tag "registry.k8s.io/pause:${PAUSE_TAG}" -o "${OUT}/pause.tar.new" \
			-file "${WORK}/pause:/pause:0755" -entrypoint /pause -user 65535:65535
		finish pause "${stamp}"
		;;
	frr)
		stamp="${SCRIPT_HASH} ${FRR_SUITE} ${FRR_PACKAGES}"
		fresh frr "${stamp}" && continue
		echo "build-node-images: FRR image from Debian ${FRR_SUITE} (about a minute)" >&2
		mmdebstrap --quiet --variant=minbase --include="${FRR_PACKAGES}" \
			--dpkgopt='path-exclude=/usr/share/man/*' \
			--dpkgopt='path-exclude=/usr/share/doc/*' \
			--dpkgopt='path-exclude=/usr/share/locale/*' \
			"${FRR_SUITE}" "${WORK}/frr-rootfs.tar" "${MIRROR}"
		ociimage -tag "ironlb.local/frr:${FRR_SUITE}" -o "${OUT}/frr.tar.new" \
			-rootfs "${WORK}/frr-rootfs.tar" -cmd /bin/sh
		finish frr "${stamp}"
		;;
	ironlb)
		src_hash="$(cd "${ROOT}" && git ls-files -co --exclude-standard '*.go' go.mod go.sum |
			grep -v '_test\.go$' | grep -v '^hack/' | LC_ALL=C sort | xargs sha256sum | sha256sum | cut -d' ' -f1)"
		stamp="${SCRIPT_HASH} ${src_hash} ${IRONLB_TAG}"
		fresh "ironlb-${IRONLB_TAG}" "${stamp}" && continue
		(cd "${ROOT}" && CGO_ENABLED=0 go build -trimpath -o "${WORK}/ironlb" ./cmd/ironlb)
		ociimage -tag "ironlb.local/ironlb:${IRONLB_TAG}" -o "${OUT}/ironlb-${IRONLB_TAG}.tar.new" \
			-file "${WORK}/ironlb:/ironlb:0755" -entrypoint /ironlb -user 65532:65532 \
			-label "org.opencontainers.image.version=${IRONLB_TAG}" \
			-label "org.opencontainers.image.revision=${src_hash}"
		finish "ironlb-${IRONLB_TAG}" "${stamp}"
		;;
	*)
		echo "build-node-images: unknown image ${image} (want pause, frr, ironlb)" >&2
		exit 2
		;;
	esac
done
