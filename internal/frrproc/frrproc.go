package frrproc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// Config describes one private FRR. Start validates it once.
type Config struct {
	// Name is the pathspace (-N): letters, digits, '-' and '_', at most 32.
	Name string
	// Netns is an existing network namespace (as for `ip netns exec`).
	Netns string
	// Daemons to run; zebra is always run. Default: zebra bgpd bfdd staticd.
	Daemons []string
	// InitialConfig is written to ConfDir()/frr.conf and loaded with
	// `vtysh -b` once the daemons answer. Empty means no config.
	InitialConfig []byte
	// Dir holds the daemons' logs and output. Default: a new folder under
	// os.TempDir(), removed by Stop. A given Dir is kept.
	Dir string
	// Log receives lifecycle messages. Default: discard.
	Log *slog.Logger

	// BinDir holds the daemons. Default /usr/lib/frr.
	BinDir string
	// Vtysh is the vtysh binary. Default /usr/bin/vtysh.
	Vtysh string
	// ConfRoot and RunRoot are FRR's compiled-in config and state roots;
	// the pathspace folders are made below them. Defaults /etc/frr and
	// /var/run/frr. Change them only together with a matching FRR build.
	ConfRoot string
	RunRoot  string
	// User and Group the daemons drop to. Default frr and frr.
	User  string
	Group string
	// StopTimeout is how long Stop waits after SIGTERM before SIGKILL.
	// Default 10s.
	StopTimeout time.Duration
	// Respawn starts a daemon again when it exits before Stop, as
	// watchfrr does in an FRR container. The new daemon starts without
	// config: integrated config is loaded by vtysh, so whoever manages
	// FRR has to apply it again.
	Respawn bool
}

// DefaultDaemons are the daemons started when Config.Daemons is empty.
func DefaultDaemons() []string { return []string{"zebra", "bgpd", "bfdd", "staticd"} }

var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$`)

var knownDaemons = []string{"mgmtd", "zebra", "bgpd", "bfdd", "staticd", "ospfd", "ospf6d", "ripd", "ripngd", "isisd", "pimd", "ldpd", "nhrpd", "eigrpd", "babeld", "pbrd", "fabricd", "vrrpd", "pathd"}

func (c Config) withDefaults() Config {
	if len(c.Daemons) == 0 {
		c.Daemons = DefaultDaemons()
	}
	if !slices.Contains(c.Daemons, "zebra") {
		c.Daemons = append([]string{"zebra"}, c.Daemons...)
	} else if c.Daemons[0] != "zebra" {
		rest := slices.DeleteFunc(slices.Clone(c.Daemons), func(d string) bool { return d == "zebra" })
		c.Daemons = append([]string{"zebra"}, rest...)
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	if c.BinDir == "" {
		c.BinDir = "/usr/lib/frr"
	}
	if c.Vtysh == "" {
		c.Vtysh = "/usr/bin/vtysh"
	}
	if c.ConfRoot == "" {
		c.ConfRoot = "/etc/frr"
	}
	if c.RunRoot == "" {
		c.RunRoot = "/var/run/frr"
	}
	if c.User == "" {
		c.User = "frr"
	}
	if c.Group == "" {
		c.Group = "frr"
	}
	// FRR 9 and later have mgmtd, which vtysh needs (FRR 10 refuses to
	// run without it: "mgmtd is not running") and which holds the
	// configuration of zebra's and staticd's prefix-lists and route-maps;
	// it starts first, as frrinit.sh starts it.
	if _, err := os.Stat(filepath.Join(c.BinDir, "mgmtd")); err == nil && !slices.Contains(c.Daemons, "mgmtd") {
		c.Daemons = append([]string{"mgmtd"}, c.Daemons...)
	}
	if c.StopTimeout <= 0 {
		c.StopTimeout = 10 * time.Second
	}
	return c
}

func (c Config) validate() error {
	if !nameRE.MatchString(c.Name) {
		return fmt.Errorf("pathspace name %q: want 1-32 of [A-Za-z0-9_-], not starting with '-' or '_'", c.Name)
	}
	if c.Netns == "" {
		return errors.New("netns: empty, an existing network namespace is required")
	}
	if _, err := os.Stat(filepath.Join("/run/netns", c.Netns)); err != nil {
		return fmt.Errorf("netns %q: %w", c.Netns, err)
	}
	seen := map[string]bool{}
	for _, d := range c.Daemons {
		if !slices.Contains(knownDaemons, d) {
			return fmt.Errorf("daemon %q: unknown", d)
		}
		if seen[d] {
			return fmt.Errorf("daemon %q: listed twice", d)
		}
		seen[d] = true
	}
	return nil
}

// FRR is a running private FRR. Its methods are safe for concurrent use.
type FRR struct {
	cfg     Config
	confDir string
	runDir  string
	uid     int
	gid     int

	// cleanup state, in creation order
	madeDirs  []string
	madeFiles []string

	// mu guards procs and stopping once Start has returned, when
	// respawns replace entries of procs.
	mu       sync.Mutex
	procs    []*daemon
	stopping bool
	respawns sync.WaitGroup

	stopOnce sync.Once
	stopErr  error
}

type daemon struct {
	name    string
	cmd     *exec.Cmd
	started time.Time
	done    chan struct{}
	err     error // set before done is closed
}

// Start validates cfg, starts the daemons inside cfg.Netns, waits until
// each answers on its vty socket and loads cfg.InitialConfig. On error
// everything started or made so far is removed again.
func Start(ctx context.Context, cfg Config) (*FRR, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("starting frr: %w", err)
	}
	f := &FRR{
		cfg:     cfg,
		confDir: filepath.Join(cfg.ConfRoot, cfg.Name),
		runDir:  filepath.Join(cfg.RunRoot, cfg.Name),
	}
	if err := f.start(ctx); err != nil {
		stopErr := f.Stop()
		return nil, errors.Join(fmt.Errorf("starting frr %s: %w", cfg.Name, err), stopErr)
	}
	cfg.Log.Info("frr started", "pathspace", cfg.Name, "netns", cfg.Netns, "dir", f.cfg.Dir)
	return f, nil
}

func (f *FRR) start(ctx context.Context) error {
	if err := f.lookupIDs(); err != nil {
		return err
	}
	if f.pathspaceLive() {
		return fmt.Errorf("pathspace %s: daemons already answer in %s", f.cfg.Name, f.runDir)
	}
	if f.cfg.Dir == "" {
		d, err := os.MkdirTemp("", "frrproc-"+f.cfg.Name+"-")
		if err != nil {
			return fmt.Errorf("making state dir: %w", err)
		}
		f.madeDirs = append(f.madeDirs, d)
		f.cfg.Dir = d
	}
	for _, d := range []string{f.cfg.Dir, f.confDir, f.runDir} {
		if err := f.mkdirOwned(d); err != nil {
			return err
		}
	}
	if err := f.writeOwned(filepath.Join(f.confDir, "vtysh.conf"), []byte("service integrated-vtysh-config\n")); err != nil {
		return err
	}
	if err := f.writeOwned(f.ConfPath(), f.cfg.InitialConfig); err != nil {
		return err
	}
	// frr-reload.py writes these when it persists the running config.
	f.madeFiles = append(f.madeFiles, f.ConfPath()+".sav")

	for _, name := range f.cfg.Daemons {
		d, err := f.startDaemon(name)
		if err != nil {
			return err
		}
		f.mu.Lock()
		f.procs = append(f.procs, d)
		f.mu.Unlock()
		if name == "zebra" {
			// Start the clients only once zebra listens, so they need no
			// reconnect round.
			if err := f.waitSocket(ctx, filepath.Join(f.runDir, "zserv.api")); err != nil {
				return fmt.Errorf("waiting for zebra's zserv.api: %w", err)
			}
		}
	}
	for _, name := range f.cfg.Daemons {
		if err := f.waitSocket(ctx, filepath.Join(f.runDir, name+".vty")); err != nil {
			return fmt.Errorf("waiting for %s's vty: %w", name, err)
		}
	}
	if err := f.waitBackends(ctx); err != nil {
		return err
	}
	if len(bytes.TrimSpace(f.cfg.InitialConfig)) > 0 {
		// vtysh -b exits 2 when a line of frr.conf fails.
		if _, err := f.run(ctx, "-b"); err != nil {
			return fmt.Errorf("loading initial config: %w", err)
		}
	}
	if f.cfg.Respawn {
		f.mu.Lock()
		for _, d := range f.procs {
			f.respawns.Add(1)
			go f.respawn(d)
		}
		f.mu.Unlock()
	}
	return nil
}

// respawnPause is the least time between two starts of one daemon, so a
// daemon that cannot start does not spin.
const respawnPause = time.Second

// respawn waits for d to exit and starts its name again, until Stop.
func (f *FRR) respawn(d *daemon) {
	defer f.respawns.Done()
	for {
		<-d.done
		if wait := respawnPause - time.Since(d.started); wait > 0 {
			time.Sleep(wait)
		}
		f.mu.Lock()
		if f.stopping {
			f.mu.Unlock()
			return
		}
		f.cfg.Log.Warn("frr daemon exited, starting it again", "pathspace", f.cfg.Name, "daemon", d.name, "error", d.err)
		next, err := f.startDaemon(d.name)
		if err != nil {
			f.mu.Unlock()
			f.cfg.Log.Error("restarting frr daemon", "pathspace", f.cfg.Name, "daemon", d.name, "error", err)
			return
		}
		for i, p := range f.procs {
			if p == d {
				f.procs[i] = next
			}
		}
		f.mu.Unlock()
		d = next
	}
}

func (f *FRR) lookupIDs() error {
	u, err := user.Lookup(f.cfg.User)
	if err != nil {
		return fmt.Errorf("looking up user %q: %w", f.cfg.User, err)
	}
	g, err := user.LookupGroup(f.cfg.Group)
	if err != nil {
		return fmt.Errorf("looking up group %q: %w", f.cfg.Group, err)
	}
	if f.uid, err = strconv.Atoi(u.Uid); err != nil {
		return fmt.Errorf("user %q uid %q: %w", f.cfg.User, u.Uid, err)
	}
	if f.gid, err = strconv.Atoi(g.Gid); err != nil {
		return fmt.Errorf("group %q gid %q: %w", f.cfg.Group, g.Gid, err)
	}
	return nil
}

// pathspaceLive reports whether some daemon already answers in runDir.
func (f *FRR) pathspaceLive() bool {
	ents, err := os.ReadDir(f.runDir)
	if err != nil {
		return false
	}
	for _, e := range ents {
		if filepath.Ext(e.Name()) != ".vty" {
			continue
		}
		c, err := net.DialTimeout("unix", filepath.Join(f.runDir, e.Name()), time.Second)
		if err == nil {
			c.Close()
			return true
		}
	}
	return false
}

func (f *FRR) mkdirOwned(dir string) error {
	if _, err := os.Stat(dir); err == nil {
		return os.Chown(dir, f.uid, f.gid)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("making %s: %w", dir, err)
	}
	if !slices.Contains(f.madeDirs, dir) {
		f.madeDirs = append(f.madeDirs, dir)
	}
	if err := os.Chown(dir, f.uid, f.gid); err != nil {
		return fmt.Errorf("chown %s: %w", dir, err)
	}
	return nil
}

func (f *FRR) writeOwned(path string, data []byte) error {
	if err := os.WriteFile(path, data, 0o640); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	f.madeFiles = append(f.madeFiles, path)
	if err := os.Chown(path, f.uid, f.gid); err != nil {
		return fmt.Errorf("chown %s: %w", path, err)
	}
	return nil
}

// startDaemon starts one daemon; the caller records it in procs.
func (f *FRR) startDaemon(name string) (*daemon, error) {
	logPath := filepath.Join(f.cfg.Dir, name+".log")
	outPath := filepath.Join(f.cfg.Dir, name+".out")
	out, err := os.OpenFile(outPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o640)
	if err != nil {
		return nil, fmt.Errorf("opening %s output: %w", name, err)
	}
	args := []string{"netns", "exec", f.cfg.Netns, filepath.Join(f.cfg.BinDir, name),
		"-N", f.cfg.Name, "-u", f.cfg.User, "-g", f.cfg.Group, "-P", "0",
		"--log", "file:" + logPath}
	cmd := exec.Command("ip", args...)
	cmd.Stdout = out
	cmd.Stderr = out
	// Own process group: a ^C on the test's terminal must not reach the
	// daemons before Stop does.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		out.Close()
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	d := &daemon{name: name, cmd: cmd, started: time.Now(), done: make(chan struct{})}
	go func() {
		d.err = cmd.Wait()
		out.Close()
		close(d.done)
	}()
	f.cfg.Log.Debug("frr daemon started", "pathspace", f.cfg.Name, "daemon", name, "pid", cmd.Process.Pid)
	return d, nil
}

// waitSocket waits until a unix socket accepts, a daemon exits, or ctx ends.
func (f *FRR) waitSocket(ctx context.Context, path string) error {
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		if c, err := net.Dial("unix", path); err == nil {
			c.Close()
			return nil
		}
		for _, d := range f.procs {
			select {
			case <-d.done:
				return fmt.Errorf("%s exited (%v): %s", d.name, d.err, f.tail(d.name))
			default:
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// mgmtdBackends are the daemons that take their configuration from mgmtd
// in FRR 10 (vtysh's VTYSH_MGMT_BACKEND).
var mgmtdBackends = []string{"zebra", "staticd", "ripd", "ripngd"}

// waitBackends waits, where mgmtd runs, until every backend daemon that
// runs has connected to it and mgmtd's first transaction with it (the
// full config) is over: `show mgmt backend-adapter all` lists them all and
// stays the same from one poll to the next. Config committed before that
// can get lost for a backend or refused (FRR 10.3: zebra without the
// prefix-lists, or "Mandatory node action does not exist" for a
// route-map entry, seen in TestVtySockMatchesVtysh under
// hack/test-frr-image.sh).
func (f *FRR) waitBackends(ctx context.Context) error {
	if !slices.Contains(f.cfg.Daemons, "mgmtd") {
		return nil
	}
	var (
		want   []string
		listed []*regexp.Regexp
	)
	for _, d := range f.cfg.Daemons {
		if slices.Contains(mgmtdBackends, d) {
			want = append(want, d)
			listed = append(listed, regexp.MustCompile(`(?m)^\s*Client:\s+`+d+`\s*$`))
		}
	}
	var last []byte
	for {
		out, err := f.run(ctx, "-c", "show mgmt backend-adapter all")
		if err != nil {
			return fmt.Errorf("waiting for mgmtd's backends: %w", err)
		}
		all := true
		for _, re := range listed {
			all = all && re.Match(out)
		}
		if all && bytes.Equal(out, last) {
			return nil
		}
		last = out
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for mgmtd's backends %v: %w", want, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// tail returns the end of a daemon's log and output, for error messages.
func (f *FRR) tail(name string) string {
	var b []byte
	for _, ext := range []string{".out", ".log"} {
		data, _ := os.ReadFile(filepath.Join(f.cfg.Dir, name+ext))
		b = append(b, data...)
	}
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(bytes.TrimSpace(b))
}

// Name returns the pathspace.
func (f *FRR) Name() string { return f.cfg.Name }

// Netns returns the network namespace the daemons run in.
func (f *FRR) Netns() string { return f.cfg.Netns }

// ConfDir returns the pathspace's config folder (/etc/frr/NAME), where
// frr.conf lives for frr-reload.py.
func (f *FRR) ConfDir() string { return f.confDir }

// ConfPath returns ConfDir()/frr.conf.
func (f *FRR) ConfPath() string { return filepath.Join(f.confDir, "frr.conf") }

// Dir returns the folder with the daemons' logs.
func (f *FRR) Dir() string { return f.cfg.Dir }

// Vtysh runs `vtysh -N NAME -c CMD...`, one -c per command, and returns
// its output. A failing command ends vtysh with a non-zero status; the
// error then carries vtysh's output, which holds FRR's message.
func (f *FRR) Vtysh(ctx context.Context, cmds ...string) ([]byte, error) {
	args := make([]string, 0, 2*len(cmds))
	for _, c := range cmds {
		args = append(args, "-c", c)
	}
	return f.run(ctx, args...)
}

// VtyshJSON runs one show command and decodes its JSON output into v.
func (f *FRR) VtyshJSON(ctx context.Context, cmd string, v any) error {
	out, err := f.Vtysh(ctx, cmd)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(out, v); err != nil {
		return fmt.Errorf("decoding output of %q: %w", cmd, err)
	}
	return nil
}

func (f *FRR) run(ctx context.Context, args ...string) ([]byte, error) {
	full := append([]string{"-N", f.cfg.Name}, args...)
	cmd := exec.CommandContext(ctx, f.cfg.Vtysh, full...)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	if err := cmd.Run(); err != nil {
		return out.Bytes(), fmt.Errorf("running vtysh %q: %w: %s", full, err, bytes.TrimSpace(out.Bytes()))
	}
	return out.Bytes(), nil
}

// Stop ends the daemons (SIGTERM, then SIGKILL after Config.StopTimeout)
// and removes every file and folder Start made. It is safe to call more
// than once; later calls return the first result.
func (f *FRR) Stop() error {
	f.stopOnce.Do(func() { f.stopErr = f.stop() })
	return f.stopErr
}

func (f *FRR) stop() error {
	f.mu.Lock()
	f.stopping = true
	procs := slices.Clone(f.procs)
	f.mu.Unlock()
	var errs []error
	for _, d := range procs {
		_ = d.cmd.Process.Signal(syscall.SIGTERM)
	}
	deadline := time.NewTimer(f.cfg.StopTimeout)
	defer deadline.Stop()
	for _, d := range procs {
		select {
		case <-d.done:
		case <-deadline.C:
			// Expired: kill what is left without waiting further.
			deadline.Reset(0)
		}
		select {
		case <-d.done:
		default:
			errs = append(errs, fmt.Errorf("%s did not stop on SIGTERM, killing it", d.name))
			_ = d.cmd.Process.Kill()
			<-d.done
		}
	}
	if len(procs) > 0 {
		f.cfg.Log.Info("frr stopped", "pathspace", f.cfg.Name)
	}
	// Sockets and pid files the daemons leave behind, when runDir is not
	// ours to remove as a whole.
	if !slices.Contains(f.madeDirs, f.runDir) {
		for _, d := range procs {
			for _, n := range []string{d.name + ".vty", d.name + ".pid"} {
				f.madeFiles = append(f.madeFiles, filepath.Join(f.runDir, n))
			}
		}
		f.madeFiles = append(f.madeFiles, filepath.Join(f.runDir, "zserv.api"), filepath.Join(f.runDir, "bfdd.sock"))
	}
	f.respawns.Wait()
	for _, p := range f.madeFiles {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("removing %s: %w", p, err))
		}
	}
	for _, d := range slices.Backward(f.madeDirs) {
		if err := os.RemoveAll(d); err != nil {
			errs = append(errs, fmt.Errorf("removing %s: %w", d, err))
		}
	}
	return errors.Join(errs...)
}

// Pid returns the process id of the running daemon name, or 0.
func (f *FRR) Pid(name string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, d := range f.procs {
		if d.name == name {
			return d.cmd.Process.Pid
		}
	}
	return 0
}

// Kill ends daemon name with SIGKILL, as a crash would; with
// Config.Respawn it is started again.
func (f *FRR) Kill(name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, d := range f.procs {
		if d.name == name {
			if err := d.cmd.Process.Kill(); err != nil {
				return fmt.Errorf("killing %s: %w", name, err)
			}
			return nil
		}
	}
	return fmt.Errorf("killing %s: not running here", name)
}
