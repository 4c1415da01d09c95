// Package frrproc starts a private FRR (zebra, bgpd, bfdd and staticd by
// default) inside an existing network namespace, for tests and the lab.
//
// Each FRR gets its own pathspace (the daemons' and vtysh's -N NAME), so
// several run side by side on one machine and `vtysh -N NAME` reaches each
// one. What FRR 8.4 needs for a pathspace, found by trying:
//
//   - /etc/frr/NAME/ holds frr.conf and vtysh.conf. vtysh.conf must say
//     `service integrated-vtysh-config`, or frr-reload.py refuses --reload.
//   - /var/run/frr/NAME/ holds the daemons' pid files, their NAME.vty
//     sockets and zebra's zserv.api; it must be writable by the daemons'
//     user (frr), so Start creates it owned by frr:frr.
//   - The daemons do not read frr.conf themselves when the integrated
//     config is used: watchfrr normally runs `vtysh -b`, and so does Start
//     once every daemon's vty socket answers.
//   - frr-reload.py needs no daemons file: `frr-reload.py --reload
//     --pathspace NAME FILE` runs vtysh with `--config_dir /etc/frr -N NAME`,
//     reads /etc/frr/NAME/vtysh.conf and writes /etc/frr/NAME/frr.conf (and
//     frr.conf.sav) when done. Its temporary files go to /var/run/frr.
//   - vtysh prints the vtysh process's own `hostname` (the machine's), not
//     the one from frr.conf, so a config's hostname line never shows up in
//     `show running-config`.
//   - `vtysh -f FILE` goes on after a failing line and exits 2; `vtysh -c`
//     stops at the first failing command and exits 1.
//
// The daemons run in the foreground as children of this process under
// `ip netns exec NS`, with the TCP vty disabled (-P 0) and their logs in
// Config.Dir. Stop ends them and removes every file and folder Start made.
//
// For tests: StartTest starts an FRR (in a new "ilbt-" namespace unless
// one is given) and stops it at cleanup, NewTestNetns makes a namespace
// deleted at cleanup, Veth links two namespaces, and SkipUnlessRoot skips
// where namespaces cannot be made.
package frrproc
