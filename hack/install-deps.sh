#!/usr/bin/env bash
# install-deps.sh installs the Debian packages the tests and the lab need,
# when they are missing: FRR (bgpd, bfdd, zebra, vtysh, frr-reload.py),
# iproute2 and promtool (Debian's prometheus package), and for the lab's
# real-nodes mode containerd, runc, the CNI plugins, mmdebstrap (the FRR node
# image) and gcc (the pause image). It never starts a service (FRR's,
# Prometheus', containerd's).
set -euo pipefail

need=()
command -v ip >/dev/null 2>&1 || need+=(iproute2)
[[ -x /usr/lib/frr/bgpd ]] || need+=(frr)
[[ -x /usr/lib/frr/frr-reload.py ]] || need+=(frr-pythontools)
# promtool, for `promtool test rules` of the chart's alerts.
command -v promtool >/dev/null 2>&1 || need+=(prometheus)
# Real-nodes lab (e2e/lab, hack/build-node-*.sh).
command -v containerd >/dev/null 2>&1 || need+=(containerd)
command -v runc >/dev/null 2>&1 || need+=(runc)
[[ -x /usr/lib/cni/bridge ]] || need+=(containernetworking-plugins)
command -v mmdebstrap >/dev/null 2>&1 || need+=(mmdebstrap)
command -v gcc >/dev/null 2>&1 || need+=(gcc libc6-dev)
command -v iptables >/dev/null 2>&1 || need+=(iptables)
command -v conntrack >/dev/null 2>&1 || need+=(conntrack)
if [[ ${#need[@]} -eq 0 ]]; then
	exit 0
fi
if [[ "$(id -u)" != 0 ]]; then
	echo "install-deps: need root to install ${need[*]}" >&2
	exit 1
fi
echo "install-deps: installing ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# policy-rc.d keeps the package scripts from starting FRR's own service.
printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
chmod +x /usr/sbin/policy-rc.d
trap 'rm -f /usr/sbin/policy-rc.d' EXIT
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
