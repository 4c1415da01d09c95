#!/bin/sh
# frr-start.sh is the entrypoint of the speaker's frr container:
#
#   [init --] /bin/sh frr-start.sh AGENT [AGENT-ARGS...]
#
# 1. It puts FRR's startup files from its own folder (the ConfigMap) into
#    /etc/frr, an emptyDir. A frr.conf already there is kept: after a
#    container restart FRR comes back with the configuration the agent
#    last applied, and the speaker's next apply corrects it if needed.
# 2. It starts FRR with the image's own init script: watchfrr starts the
#    daemons of the daemons file (zebra, bgpd, bfdd, staticd), restarts any
#    that dies, and loads frr.conf once all are up; the script returns when
#    they are. The status check fails the container when FRR did not
#    start, rather than running the agent without it.
# 3. It replaces itself with the agent, whose exit ends the container. The
#    init (tini) stays PID 1: it reaps the daemons that watchfrr
#    daemonized and forwards SIGTERM to the agent.
#
# FRR logs to /var/log/frr/frr.log (see the daemons file); a background
# tail copies it to the container's output for `kubectl logs -c frr`.
set -eu
if [ "$#" -eq 0 ]; then
	echo "usage: frr-start.sh AGENT [ARGS...]" >&2
	exit 2
fi
here=$(dirname "$0")
cp "$here/daemons" "$here/vtysh.conf" /etc/frr/
if [ ! -s /etc/frr/frr.conf ]; then
	cp "$here/frr.conf" /etc/frr/frr.conf
fi
# Leftovers of this container's previous run: the emptyDirs outlive it.
rm -f /var/run/frr/*.pid /var/run/frr/*.vty /var/run/frr/*.sock /var/run/frr/zserv.api /var/run/frr/watchfrr.started
rm -f /var/log/frr/frr.log
tail -n +1 -F /var/log/frr/frr.log 2>/dev/null &
/usr/lib/frr/frrinit.sh start
if ! /usr/lib/frr/frrinit.sh status >/dev/null; then
	echo "frr-start: FRR did not start" >&2
	exit 1
fi
exec "$@"
