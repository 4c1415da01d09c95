#!/usr/bin/env bash
# test-frr-image.sh runs ironlb's FRR tests against the FRR of the node
# image (bin/images/frr.tar, Debian trixie's FRR 10.3; hack/build-node-images.sh)
# instead of the machine's FRR 8.4.4: the tests are compiled statically and
# run chrooted in the image's root filesystem, in a private mount namespace
# (its mounts go away with it). Network namespaces the tests make have
# unique names (frrproc.NewTestNetns). Root only.
#
#   hack/test-frr-image.sh                       # vty socket vs vtysh, apply tests
#   RUN='TestVtySock' PKGS=./frr/apply hack/test-frr-image.sh
#   RUN='^$' ARGS='-test.bench=ApplyOneServiceInto10k -test.benchtime=10x' hack/test-frr-image.sh
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
IMAGE="${IMAGE:-${ROOT}/bin/images/frr.tar}"
RUN="${RUN:-TestVtySockMatchesVtysh|TestApplyRealFRR|TestDeltaApplyKeepsSession|TestPolicyFirst|TestWithoutNeighborBFD|TestNeighborBFDOff|TestApplierPaths|TestApplierRecoversAndReconciles}"
PKGS="${PKGS:-./frr/apply}"
ARGS="${ARGS:-}" # more test binary flags, split at spaces (benchmarks)
[[ -f "${IMAGE}" ]] || { echo "test-frr-image: no ${IMAGE} (run hack/build-node-images.sh)" >&2; exit 1; }
[[ "$(id -u)" == 0 ]] || { echo "test-frr-image: needs root" >&2; exit 1; }

WORK="$(mktemp -d)"
trap 'rm -rf "${WORK}"' EXIT
mkdir -p "${WORK}/image" "${WORK}/rootfs"
tar -xf "${IMAGE}" -C "${WORK}/image"
for layer in $(grep -o '[0-9a-f]\{64\}\.tar\.gz' "${WORK}/image/manifest.json"); do
	tar -xzf "${WORK}/image/${layer}" -C "${WORK}/rootfs"
done
echo "test-frr-image: $(chroot "${WORK}/rootfs" /usr/lib/frr/zebra --version | head -1)" >&2
mkdir -p "${WORK}/rootfs/tests"
tests=()
for pkg in ${PKGS}; do
	name="$(echo "${pkg}" | tr -c 'a-zA-Z0-9\n' '_')"
	(cd "${ROOT}" && CGO_ENABLED=0 go test -c -o "${WORK}/rootfs/tests/${name}.test" "${pkg}")
	tests+=("${name}:${pkg}")
done
status=0
for t in "${tests[@]}"; do
	name="${t%%:*}"
	pkg="${t#*:}"
	echo "test-frr-image: ${pkg} -run '${RUN}'" >&2
	# The test binary's working folder is its package folder, for testdata.
	mkdir -p "${WORK}/rootfs/src"
	cp -r "${ROOT}/${pkg#./}" "${WORK}/rootfs/src/pkg"
	unshare --mount --propagation private sh -c '
		set -e
		r="$1"
		# A mount point as /, as `ip netns` wants.
		mount --bind "$r" "$r"
		mount -t proc proc "$r/proc"
		mount --rbind /sys "$r/sys"
		mount --rbind /dev "$r/dev"
		mount -t tmpfs tmpfs "$r/run"
		mount -t tmpfs tmpfs "$r/tmp"
		mkdir -p "$r/run/netns" /run/netns
		mount --rbind /run/netns "$r/run/netns"
		cd "$r/src/pkg"
		exec chroot "$r" sh -c "cd /src/pkg && exec /tests/$2.test -test.count=1 -test.v -test.run \"\$3\" \$4" -- "$1" "$2" "$3" "$4"
	' -- "${WORK}/rootfs" "${name}" "${RUN}" "${ARGS}" || status=$?
	rm -rf "${WORK}/rootfs/src/pkg"
done
exit "${status}"
