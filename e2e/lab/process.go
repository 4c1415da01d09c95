package lab

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// procSpec is one long-running program of the lab.
type procSpec struct {
	// name is unique in the lab and names the pid and log files.
	name string
	// netns is the network namespace it runs in; "" is the root one.
	netns string
	// nsenter enters netns with `nsenter --net` instead of `ip netns
	// exec`, which remounts /sys (containerd, the kubelet and runc need
	// the host's cgroup mounts).
	nsenter bool
	argv    []string
	// tier orders starting and stopping: Up starts lower tiers first,
	// Teardown stops higher tiers first, each tier's processes together.
	tier int
	// extraFiles are handed to the process as fd 3 onwards.
	extraFiles []*os.File
	// ready, when set, returns nil once the program serves; Up waits for it.
	ready func(ctx context.Context) error
}

// procID names one process for good: a pid alone may be reused once the
// process is gone, the pid with its start time may not.
type procID struct {
	pid   int
	start uint64 // clock ticks after boot, /proc/PID/stat field 22
}

// lookupProc reads a live process's identity. A zombie counts as gone.
func lookupProc(pid int) (procID, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procID{}, err
	}
	// The command name (field 2) is in parentheses and may hold spaces.
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return procID{}, fmt.Errorf("parsing /proc/%d/stat: no ')'", pid)
	}
	f := strings.Fields(string(data[i+1:]))
	// f[0] is field 3 (state), so field 22 is f[19].
	if len(f) < 20 {
		return procID{}, fmt.Errorf("parsing /proc/%d/stat: %d fields", pid, len(f))
	}
	if f[0] == "Z" || f[0] == "X" {
		return procID{}, fmt.Errorf("process %d: %w", pid, os.ErrProcessDone)
	}
	start, err := strconv.ParseUint(f[19], 10, 64)
	if err != nil {
		return procID{}, fmt.Errorf("parsing /proc/%d/stat start time: %w", pid, err)
	}
	return procID{pid: pid, start: start}, nil
}

// alive reports whether the very process still runs.
func (id procID) alive() bool {
	now, err := lookupProc(id.pid)
	return err == nil && now == id
}

// signal sends sig to the process if it is still the same one.
func (id procID) signal(sig syscall.Signal) error {
	if !id.alive() {
		return nil
	}
	if err := syscall.Kill(id.pid, sig); err != nil && !errIsNoProcess(err) {
		return fmt.Errorf("signalling pid %d: %w", id.pid, err)
	}
	return nil
}

// Timeouts of stopProcs.
const (
	stopGrace = 10 * time.Second
	killGrace = 5 * time.Second
)

// stopProcs sends SIGTERM to every process, SIGKILL to those still there
// after stopGrace, and waits until all are gone. exited, when set, holds a
// channel per pid that closes once this process has reaped its child.
func stopProcs(ctx context.Context, procs []procID, exited map[int]<-chan struct{}) error {
	var errs []error
	for _, p := range procs {
		if err := p.signal(syscall.SIGTERM); err != nil {
			errs = append(errs, err)
		}
	}
	left := waitGone(ctx, procs, exited, stopGrace)
	for _, p := range left {
		if err := p.signal(syscall.SIGKILL); err != nil {
			errs = append(errs, err)
		}
	}
	for _, p := range waitGone(ctx, left, exited, killGrace) {
		errs = append(errs, fmt.Errorf("pid %d is still running after SIGKILL", p.pid))
	}
	return errors.Join(errs...)
}

// waitGone polls until the processes are gone, ctx ends or max passes,
// and returns those still running.
func waitGone(ctx context.Context, procs []procID, exited map[int]<-chan struct{}, max time.Duration) []procID {
	gone := func(p procID) bool {
		if ch, ok := exited[p.pid]; ok {
			select {
			case <-ch:
				return true
			default:
				return false
			}
		}
		return !p.alive()
	}
	deadline := time.NewTimer(max)
	defer deadline.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		procs = slices.DeleteFunc(procs, gone)
		if len(procs) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return procs
		case <-deadline.C:
			return procs
		case <-tick.C:
		}
	}
}

// started is a process Up started.
type started struct {
	spec procSpec
	id   procID
	// exited closes once the process ends; only while this process is
	// its parent (Up's caller has not exited).
	exited chan struct{}
	// waitErr is the process's exit status, set before exited closes.
	waitErr error
	logPath string
}

// pidFileName is a process's pid file: its tier stays on disk for
// Teardown, which may run in another process.
func pidFileName(tier int, name string) string {
	return fmt.Sprintf("%d-%s.pid", tier, name)
}

// startProc starts spec detached (own session, stdin from /dev/null,
// output to its log) and records its pid in pidDir.
func startProc(spec procSpec, pidDir, logDir string) (*started, error) {
	logPath := filepath.Join(logDir, spec.name+".log")
	out, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("starting %s: opening log: %w", spec.name, err)
	}
	defer out.Close()
	argv := spec.argv
	switch {
	case spec.netns != "" && spec.nsenter:
		argv = append([]string{"nsenter", "--net=" + filepath.Join(netnsDir, spec.netns), "--"}, argv...)
	case spec.netns != "":
		argv = append([]string{"ip", "netns", "exec", spec.netns}, argv...)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout = out
	cmd.Stderr = out
	cmd.ExtraFiles = spec.extraFiles
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", spec.name, err)
	}
	s := &started{spec: spec, exited: make(chan struct{}), logPath: logPath}
	go func() {
		s.waitErr = cmd.Wait()
		close(s.exited)
	}()
	id, err := lookupProc(cmd.Process.Pid)
	if err != nil {
		<-s.exited
		return nil, fmt.Errorf("starting %s: exited at once (%v): %s", spec.name, s.waitErr, logTail(logPath))
	}
	s.id = id
	line := fmt.Sprintf("%d %d\n", id.pid, id.start)
	if err := os.WriteFile(filepath.Join(pidDir, pidFileName(spec.tier, spec.name)), []byte(line), 0o644); err != nil {
		_ = stopProcs(context.Background(), []procID{id}, map[int]<-chan struct{}{id.pid: s.exited})
		return nil, fmt.Errorf("starting %s: writing pid file: %w", spec.name, err)
	}
	return s, nil
}

// running returns an error with the log's tail once the process has
// exited.
func (s *started) running() error {
	select {
	case <-s.exited:
		return fmt.Errorf("%s exited (%v): %s", s.spec.name, s.waitErr, logTail(s.logPath))
	default:
		return nil
	}
}

// readPidFiles returns the recorded processes by tier, highest first.
func readPidFiles(pidDir string) ([][]procID, error) {
	ents, err := os.ReadDir(pidDir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading pid files: %w", err)
	}
	byTier := map[int][]procID{}
	for _, e := range ents {
		if filepath.Ext(e.Name()) != ".pid" {
			continue
		}
		tierText, _, ok := strings.Cut(e.Name(), "-")
		tier, err := strconv.Atoi(tierText)
		if !ok || err != nil {
			return nil, fmt.Errorf("pid file %s: name does not start with a tier", e.Name())
		}
		data, err := os.ReadFile(filepath.Join(pidDir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("reading pid file: %w", err)
		}
		var id procID
		if _, err := fmt.Sscanf(string(data), "%d %d", &id.pid, &id.start); err != nil {
			return nil, fmt.Errorf("parsing pid file %s: %w", e.Name(), err)
		}
		byTier[tier] = append(byTier[tier], id)
	}
	tiers := slices.Sorted(maps.Keys(byTier))
	slices.Reverse(tiers)
	out := make([][]procID, 0, len(tiers))
	for _, t := range tiers {
		out = append(out, byTier[t])
	}
	return out, nil
}

// logTail returns the last lines of a log, for error messages.
func logTail(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	const max = 3000
	if len(data) > max {
		data = data[len(data)-max:]
	}
	return string(bytes.TrimSpace(data))
}
