// Command ociimage writes a container image as a docker-save tarball that
// `ctr images import` loads, without Docker: an empty image, one layer made
// of the given files (and/or a root filesystem tarball such as mmdebstrap's),
// and the entrypoint, user and environment given on the command line.
//
//	ociimage -tag ironlb.local/ironlb:dev -o ironlb.tar \
//	    -file bin/ironlb:/ironlb:0755 -entrypoint /ironlb -user 65532:65532
//
// The layers get fixed timestamps, so the same inputs give the same image ID.
package main

import (
	"archive/tar"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// config is the command line, validated once.
type config struct {
	tag        string
	out        string
	rootfs     []string
	files      []fileSpec
	entrypoint []string
	cmd        []string
	user       string
	env        []string
	workdir    string
	labels     map[string]string
}

// fileSpec is one -file SRC:DST[:MODE].
type fileSpec struct {
	src, dst string
	mode     int64
}

// listFlag collects a repeated flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func main() {
	cfg, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "ociimage:", err)
		os.Exit(2)
	}
	if err := run(cfg); err != nil {
		fmt.Fprintln(os.Stderr, "ociimage:", err)
		os.Exit(1)
	}
}

func parseFlags(args []string) (config, error) {
	fs := flag.NewFlagSet("ociimage", flag.ContinueOnError)
	var cfg config
	var rootfs, files, entrypoint, cmd, env, labels listFlag
	fs.StringVar(&cfg.tag, "tag", "", "image reference, e.g. ironlb.local/ironlb:dev")
	fs.StringVar(&cfg.out, "o", "", "output tarball (docker save format)")
	fs.Var(&rootfs, "rootfs", "a tarball added as its own layer (repeatable)")
	fs.Var(&files, "file", "SRC:DST[:MODE] added to the files layer (repeatable; MODE octal)")
	fs.Var(&entrypoint, "entrypoint", "entrypoint word (repeatable)")
	fs.Var(&cmd, "cmd", "cmd word (repeatable)")
	fs.StringVar(&cfg.user, "user", "", "user[:group]")
	fs.Var(&env, "env", "KEY=VALUE (repeatable)")
	fs.StringVar(&cfg.workdir, "workdir", "", "working directory")
	fs.Var(&labels, "label", "KEY=VALUE (repeatable)")
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	if cfg.tag == "" || cfg.out == "" {
		return config{}, errors.New("-tag and -o are required")
	}
	if len(rootfs) == 0 && len(files) == 0 {
		return config{}, errors.New("need at least one -rootfs or -file")
	}
	for _, f := range files {
		parts := strings.Split(f, ":")
		if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || !path.IsAbs(parts[1]) {
			return config{}, fmt.Errorf("-file %q: want SRC:/ABS/DST[:MODE]", f)
		}
		spec := fileSpec{src: parts[0], dst: parts[1], mode: 0o644}
		if len(parts) == 3 {
			m, err := strconv.ParseInt(parts[2], 8, 32)
			if err != nil {
				return config{}, fmt.Errorf("-file %q: mode: %w", f, err)
			}
			spec.mode = m
		}
		cfg.files = append(cfg.files, spec)
	}
	cfg.labels = map[string]string{}
	for _, l := range labels {
		k, v, ok := strings.Cut(l, "=")
		if !ok || k == "" {
			return config{}, fmt.Errorf("-label %q: want KEY=VALUE", l)
		}
		cfg.labels[k] = v
	}
	cfg.rootfs, cfg.entrypoint, cfg.cmd, cfg.env = rootfs, entrypoint, cmd, env
	return cfg, nil
}

func run(cfg config) error {
	ref, err := name.NewTag(cfg.tag)
	if err != nil {
		return fmt.Errorf("parsing tag %q: %w", cfg.tag, err)
	}
	var layers []v1.Layer
	for _, r := range cfg.rootfs {
		l, err := tarball.LayerFromFile(r)
		if err != nil {
			return fmt.Errorf("reading layer %s: %w", r, err)
		}
		layers = append(layers, l)
	}
	if len(cfg.files) > 0 {
		data, err := filesLayer(cfg.files)
		if err != nil {
			return err
		}
		l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
			return io.NopCloser(bytes.NewReader(data)), nil
		})
		if err != nil {
			return fmt.Errorf("making the files layer: %w", err)
		}
		layers = append(layers, l)
	}
	img, err := mutate.AppendLayers(empty.Image, layers...)
	if err != nil {
		return fmt.Errorf("appending layers: %w", err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return fmt.Errorf("reading image config: %w", err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", "amd64"
	cf.Config.Entrypoint = cfg.entrypoint
	cf.Config.Cmd = cfg.cmd
	cf.Config.User = cfg.user
	cf.Config.WorkingDir = cfg.workdir
	cf.Config.Env = append([]string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}, cfg.env...)
	if len(cfg.labels) > 0 {
		cf.Config.Labels = cfg.labels
	}
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return fmt.Errorf("setting image config: %w", err)
	}
	tmp := cfg.out + ".tmp"
	if err := tarball.WriteToFile(tmp, ref, img); err != nil {
		return fmt.Errorf("writing %s: %w", cfg.out, err)
	}
	if err := os.Rename(tmp, cfg.out); err != nil {
		return fmt.Errorf("writing %s: %w", cfg.out, err)
	}
	return nil
}

// filesLayer is a tar of the files, with their parent directories, owned by
// root and dated at the epoch.
func filesLayer(files []fileSpec) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	epoch := time.Unix(0, 0)
	dirs := map[string]bool{}
	for _, f := range files {
		var parents []string
		for d := path.Dir(f.dst); d != "/" && !dirs[d]; d = path.Dir(d) {
			parents = append([]string{d}, parents...)
			dirs[d] = true
		}
		for _, d := range parents {
			hdr := &tar.Header{Typeflag: tar.TypeDir, Name: strings.TrimPrefix(d, "/") + "/", Mode: 0o755, ModTime: epoch}
			if err := tw.WriteHeader(hdr); err != nil {
				return nil, fmt.Errorf("writing directory %s: %w", d, err)
			}
		}
		data, err := os.ReadFile(f.src)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", f.src, err)
		}
		hdr := &tar.Header{Typeflag: tar.TypeReg, Name: strings.TrimPrefix(f.dst, "/"), Mode: f.mode, Size: int64(len(data)), ModTime: epoch}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, fmt.Errorf("writing %s: %w", f.dst, err)
		}
		if _, err := tw.Write(data); err != nil {
			return nil, fmt.Errorf("writing %s: %w", f.dst, err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("closing the files layer: %w", err)
	}
	return buf.Bytes(), nil
}
