package lab

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// netnsDir is where `ip netns add` mounts the named namespaces.
const netnsDir = "/run/netns"

func netnsExists(name string) bool {
	_, err := os.Stat(filepath.Join(netnsDir, name))
	return err == nil
}

// leftovers names the parts of a lab that already exist.
func leftovers() []string {
	var found []string
	for _, ns := range Namespaces() {
		if netnsExists(ns) {
			found = append(found, "netns "+ns)
		}
	}
	return found
}

// run runs a command and returns its error with the command's output.
func run(ctx context.Context, argv ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	if err := cmd.Run(); err != nil {
		return out.Bytes(), fmt.Errorf("running %s: %w: %s", strings.Join(argv, " "), err, bytes.TrimSpace(out.Bytes()))
	}
	return out.Bytes(), nil
}

// claimNamespaces creates the lab's namespaces. When one exists already
// (another lab started at the same moment) it deletes the ones it made
// and returns an ExistsError: what exists is not this lab's to remove.
func claimNamespaces(ctx context.Context) error {
	var made []string
	for _, ns := range Namespaces() {
		if _, err := run(ctx, "ip", "netns", "add", ns); err != nil {
			for _, m := range made {
				_, _ = run(context.WithoutCancel(ctx), "ip", "netns", "del", m)
			}
			if netnsExists(ns) {
				return &ExistsError{Found: []string{"netns " + ns}}
			}
			return fmt.Errorf("building lab network: %w", err)
		}
		made = append(made, ns)
	}
	return nil
}

// buildNetwork runs the setup plan in the claimed namespaces.
func buildNetwork(ctx context.Context) error {
	for _, argv := range setupPlan() {
		if _, err := run(ctx, argv...); err != nil {
			return fmt.Errorf("building lab network: %w", err)
		}
	}
	return nil
}

// removeNetwork kills what still runs in the lab's namespaces and
// deletes them. Missing namespaces are skipped.
func removeNetwork(ctx context.Context) error {
	var errs []error
	for _, ns := range Namespaces() {
		if !netnsExists(ns) {
			continue
		}
		if err := killNetnsProcesses(ctx, ns); err != nil {
			errs = append(errs, err)
		}
		if _, err := run(ctx, "ip", "netns", "del", ns); err != nil {
			errs = append(errs, fmt.Errorf("removing lab network: %w", err))
		}
	}
	return errors.Join(errs...)
}

// killNetnsProcesses ends the processes left in a lab namespace, such as
// FRR daemons whose parent was killed. The namespace would otherwise
// outlive `ip netns del`.
func killNetnsProcesses(ctx context.Context, ns string) error {
	out, err := run(ctx, "ip", "netns", "pids", ns)
	if err != nil {
		return fmt.Errorf("listing processes in netns %s: %w", ns, err)
	}
	var procs []procID
	for _, f := range strings.Fields(string(out)) {
		pid, err := strconv.Atoi(f)
		if err != nil || pid == os.Getpid() {
			continue
		}
		id, err := lookupProc(pid)
		if err != nil {
			continue // gone already
		}
		procs = append(procs, id)
	}
	return stopProcs(ctx, procs, nil)
}

// inNetns runs fn on an OS thread moved into the named network namespace
// ("" is the caller's own). Sockets fn opens stay in that namespace after
// fn returns.
func inNetns(name string, fn func() error) error {
	if name == "" {
		return fn()
	}
	target, err := os.Open(filepath.Join(netnsDir, name))
	if err != nil {
		return fmt.Errorf("opening netns %s: %w", name, err)
	}
	defer target.Close()
	errc := make(chan error, 1)
	go func() {
		// The thread is handed back to the runtime only once it is in its
		// original namespace again; otherwise it exits with the goroutine.
		runtime.LockOSThread()
		orig, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("opening own netns: %w", err)
			return
		}
		defer orig.Close()
		if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("entering netns %s: %w", name, err)
			return
		}
		fnErr := fn()
		if err := unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET); err != nil {
			errc <- errors.Join(fnErr, fmt.Errorf("leaving netns %s: %w", name, err))
			return
		}
		runtime.UnlockOSThread()
		errc <- fnErr
	}()
	return <-errc
}

// removeIfMissing is os.Remove that ignores a missing file.
func removeIfMissing(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// errIsNoProcess reports whether err says the process is gone.
func errIsNoProcess(err error) bool {
	return errors.Is(err, syscall.ESRCH) || errors.Is(err, os.ErrProcessDone)
}
