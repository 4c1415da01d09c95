package lab

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// cgroupV1Root is where the host mounts its cgroup v1 hierarchies.
const cgroupV1Root = "/sys/fs/cgroup"

// cgroupHierarchies returns the folders of the mounted cgroup v1
// hierarchies.
func cgroupHierarchies() ([]string, error) {
	ents, err := os.ReadDir(cgroupV1Root)
	if err != nil {
		return nil, fmt.Errorf("listing cgroup hierarchies: %w", err)
	}
	var dirs []string
	for _, e := range ents {
		d := filepath.Join(cgroupV1Root, e.Name())
		if fi, err := os.Lstat(d); err != nil || !fi.IsDir() {
			continue // symlinks such as cpu,cpuacct
		}
		if _, err := os.Stat(filepath.Join(d, "cgroup.procs")); err == nil {
			dirs = append(dirs, d)
		}
	}
	return dirs, nil
}

// makeNodeCgroups makes the cgroup /NODE, the node's kubelet cgroupRoot,
// in every hierarchy (cpuset's with its parent's CPUs and memory nodes).
func makeNodeCgroups(node string) error {
	dirs, err := cgroupHierarchies()
	if err != nil {
		return err
	}
	for _, h := range dirs {
		d := filepath.Join(h, node)
		if err := os.Mkdir(d, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
			return fmt.Errorf("making cgroup %s: %w", d, err)
		}
		for _, f := range []string{"cpuset.cpus", "cpuset.mems"} {
			v, err := os.ReadFile(filepath.Join(h, f))
			if err != nil {
				continue // not the cpuset hierarchy
			}
			if err := os.WriteFile(filepath.Join(d, f), v, 0o644); err != nil {
				return fmt.Errorf("setting %s of cgroup %s: %w", f, d, err)
			}
		}
	}
	return nil
}

// removeNodeCgroups removes the cgroup /NODE and everything under it,
// deepest first; their processes must be gone.
func removeNodeCgroups(node string) error {
	dirs, err := cgroupHierarchies()
	if err != nil {
		return err
	}
	var errs []error
	for _, h := range dirs {
		root := filepath.Join(h, node)
		var all []string
		_ = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				all = append(all, p)
			}
			return nil
		})
		slices.Reverse(all)
		for _, d := range all {
			if err := unix.Rmdir(d); err != nil && !errors.Is(err, unix.ENOENT) {
				errs = append(errs, fmt.Errorf("removing cgroup %s: %w", d, err))
			}
		}
	}
	return errors.Join(errs...)
}

// cleanupRealNodes removes what the real nodes leave behind once their
// kubelets and containerd are stopped: the containers' processes (the
// runc shims outlive containerd), the pods' network namespaces that
// containerd made in /run/netns, the mounts under the nodes' folders and
// the nodes' cgroups. It does nothing when the lab had no real nodes.
func cleanupRealNodes(ctx context.Context, cfg Config) error {
	if _, err := os.Stat(cfg.path(nodesDir)); err != nil {
		return nil
	}
	var errs []error
	for _, n := range Nodes() {
		if err := killNodeContainers(ctx, n.Name); err != nil {
			errs = append(errs, err)
		}
	}
	if err := unmountUnder(cfg.path(nodesDir)); err != nil {
		errs = append(errs, err)
	}
	for _, n := range Nodes() {
		if err := removeNodeCgroups(n.Name); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// killNodeContainers kills a real node's runc shims and everything under
// them, and removes the network namespaces of its pods.
func killNodeContainers(ctx context.Context, node string) error {
	if !netnsExists(node) {
		return nil
	}
	ino, err := nsInode(filepath.Join(netnsDir, node))
	if err != nil {
		return err
	}
	var errs []error
	procs := allProcs()
	var shims []int
	for pid, p := range procs {
		if p.comm == "containerd-shim" && p.netns == ino {
			shims = append(shims, pid)
		}
	}
	// The shims' descendants: the containers, and the network namespaces
	// of the pods without host networking.
	victims := descendants(procs, shims)
	podNetns := map[uint64]bool{}
	for _, pid := range victims {
		podNetns[procs[pid].netns] = true
	}
	var ids []procID
	for _, pid := range append(victims, shims...) {
		if id, err := lookupProc(pid); err == nil {
			ids = append(ids, id)
		}
	}
	for _, id := range ids {
		_ = id.signal(syscall.SIGKILL)
	}
	if left := waitGone(ctx, ids, nil, killGrace); len(left) > 0 {
		errs = append(errs, fmt.Errorf("cleaning up real nodes: %d container processes still running", len(left)))
	}
	if ents, err := os.ReadDir(netnsDir); err == nil {
		for _, e := range ents {
			if !strings.HasPrefix(e.Name(), "cni-") {
				continue
			}
			ino, err := nsInode(filepath.Join(netnsDir, e.Name()))
			if err != nil || !podNetns[ino] {
				continue
			}
			if _, err := run(ctx, "ip", "netns", "del", e.Name()); err != nil {
				errs = append(errs, fmt.Errorf("cleaning up real nodes: %w", err))
			}
		}
	}
	return errors.Join(errs...)
}

// procInfo is what cleanupRealNodes needs of a process.
type procInfo struct {
	ppid  int
	comm  string
	netns uint64 // inode of its network namespace
}

// allProcs reads every process's parent, name and network namespace.
func allProcs() map[int]procInfo {
	out := map[int]procInfo{}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		open, close := bytes.IndexByte(data, '('), bytes.LastIndexByte(data, ')')
		if open < 0 || close < open {
			continue
		}
		f := strings.Fields(string(data[close+1:]))
		if len(f) < 2 {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		ino, _ := nsInode(fmt.Sprintf("/proc/%d/ns/net", pid))
		out[pid] = procInfo{ppid: ppid, comm: string(data[open+1 : close]), netns: ino}
	}
	return out
}

// descendants returns every process below the roots.
func descendants(procs map[int]procInfo, roots []int) []int {
	children := map[int][]int{}
	for pid, p := range procs {
		children[p.ppid] = append(children[p.ppid], pid)
	}
	var out []int
	queue := slices.Clone(roots)
	for len(queue) > 0 {
		pid := queue[0]
		queue = queue[1:]
		for _, c := range children[pid] {
			out = append(out, c)
			queue = append(queue, c)
		}
	}
	return out
}

// nsInode returns the inode of a namespace file (/proc/PID/ns/net or a
// bind mount of one in /run/netns).
func nsInode(path string) (uint64, error) {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return 0, fmt.Errorf("reading namespace %s: %w", path, err)
	}
	return st.Ino, nil
}

// unmountUnder unmounts every mount point below dir, deepest first
// (emptyDir tmpfs, projected tokens, containers' root filesystems).
func unmountUnder(dir string) error {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return fmt.Errorf("reading mounts: %w", err)
	}
	defer f.Close()
	var points []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 5 {
			continue
		}
		p := unescapeMount(fields[4])
		if strings.HasPrefix(p, dir+"/") {
			points = append(points, p)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("reading mounts: %w", err)
	}
	slices.SortFunc(points, func(a, b string) int { return len(b) - len(a) })
	var errs []error
	for _, p := range points {
		if err := unix.Unmount(p, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
			errs = append(errs, fmt.Errorf("unmounting %s: %w", p, err))
		}
	}
	return errors.Join(errs...)
}

// unescapeMount undoes mountinfo's octal escapes (\040 for a space).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// runEnv is run with an environment.
func runEnv(ctx context.Context, env []string, argv ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = env
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	if err := cmd.Run(); err != nil {
		return out.Bytes(), fmt.Errorf("running %s: %w: %s", strings.Join(argv, " "), err, bytes.TrimSpace(out.Bytes()))
	}
	return out.Bytes(), nil
}

// ContainerInit returns the host pid of the process of a real node whose
// command line holds match and whose parent is a runc shim: a container's
// first process (the frr container's tini, say).
func (l *Lab) ContainerInit(node, match string) (int, error) {
	ino, err := nsInode(filepath.Join(netnsDir, node))
	if err != nil {
		return 0, err
	}
	procs := allProcs()
	for pid, p := range procs {
		parent, ok := procs[p.ppid]
		if !ok || parent.comm != "containerd-shim" || parent.netns != ino {
			continue
		}
		cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err == nil && bytes.Contains(cmdline, []byte(match)) {
			return pid, nil
		}
	}
	return 0, fmt.Errorf("no container process of %s runs %q", node, match)
}

// ContainerProcess is one process of a real node's containers.
type ContainerProcess struct {
	Pid     int
	Cmdline []string
	RSS     int64 // bytes
}

// ContainerProcesses lists the processes running in a real node's
// containers (below its runc shims), with their resident memory.
func (l *Lab) ContainerProcesses(node string) ([]ContainerProcess, error) {
	ino, err := nsInode(filepath.Join(netnsDir, node))
	if err != nil {
		return nil, err
	}
	procs := allProcs()
	var shims []int
	for pid, p := range procs {
		if p.comm == "containerd-shim" && p.netns == ino {
			shims = append(shims, pid)
		}
	}
	var out []ContainerProcess
	for _, pid := range descendants(procs, shims) {
		cp, err := readProcess(pid)
		if err == nil {
			out = append(out, cp)
		}
	}
	return out, nil
}

// ProcessRSS returns a process's command line and resident memory.
func ProcessRSS(pid int) (ContainerProcess, error) { return readProcess(pid) }

func readProcess(pid int) (ContainerProcess, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return ContainerProcess{}, err
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return ContainerProcess{}, err
	}
	cp := ContainerProcess{Pid: pid, Cmdline: strings.Split(strings.TrimRight(string(raw), "\x00"), "\x00")}
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			cp.RSS = kb * 1024
		}
	}
	return cp, nil
}
