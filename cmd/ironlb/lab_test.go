package main

import (
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ironlb/ironlb/e2e/lab"
)

func TestParseLabUpFlags(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		want    lab.Config
		wantErr bool
	}{{
		name: "defaults next to the binary",
		want: labDefaults(func(c *lab.Config) { c.Manifests = []string{"examples/lab"} }),
	}, {
		name: "everything given",
		args: []string{"--state-dir", "/tmp/l", "--binary", "/b/ironlb", "--kube-bin", "/k", "--crds", "/c", "--manifests", "a.yaml, b/", "--speakers"},
		want: labDefaults(func(c *lab.Config) {
			c.StateDir, c.Binary, c.KubeBinDir, c.CRDDir = "/tmp/l", "/b/ironlb", "/k", "/c"
			c.Manifests, c.Speakers = []string{"a.yaml", "b/"}, true
		}),
	}, {
		name: "real nodes",
		args: []string{"--nodes", "real", "--node-bin", "/n", "--images", "/i", "--helm", "/h", "--chart", "/ch", "--ironlb-tag", "v2"},
		want: labDefaults(func(c *lab.Config) {
			c.Manifests = []string{"examples/lab"}
			c.RealNodes, c.NodeBinDir, c.ImageDir, c.HelmBinary, c.ChartDir, c.IronlbTag = true, "/n", "/i", "/h", "/ch", "v2"
		}),
	}, {
		name:    "unknown node mode",
		args:    []string{"--nodes", "virtual"},
		wantErr: true,
	}, {
		name: "no manifests",
		args: []string{"--manifests", ""},
		want: labDefaults(nil),
	}, {
		name:    "stray argument",
		args:    []string{"now"},
		wantErr: true,
	}, {
		name:    "bad log level",
		args:    []string{"--log-level", "loud"},
		wantErr: true,
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseLabUpFlags(tc.args, io.Discard, "/opt/ironlb/bin/ironlb")
			if (err != nil) != tc.wantErr {
				t.Fatalf("parseLabUpFlags() error = %v, wantErr %v", err, tc.wantErr)
			}
			if tc.wantErr {
				return
			}
			if diff := cmp.Diff(tc.want, got.lab); diff != "" {
				t.Errorf("parseLabUpFlags() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// labDefaults is the configuration of `ironlb lab up` with no flags, for
// a binary in /opt/ironlb/bin, without manifests, changed by edit.
func labDefaults(edit func(*lab.Config)) lab.Config {
	c := lab.Config{
		StateDir:   lab.DefaultStateDir,
		Binary:     "/opt/ironlb/bin/ironlb",
		KubeBinDir: "/opt/ironlb/bin/k8s",
		CRDDir:     "charts/ironlb/crds",
		NodeBinDir: "/opt/ironlb/bin/node",
		ImageDir:   "/opt/ironlb/bin/images",
		HelmBinary: "/opt/ironlb/bin/helm",
		ChartDir:   "charts/ironlb",
		IronlbTag:  lab.DefaultIronlbTag,
	}
	if edit != nil {
		edit(&c)
	}
	return c
}

func TestLabCommandExitCodes(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		want       int
		wantStderr string
	}{
		{name: "no lab command", args: []string{"lab"}, want: 2, wantStderr: "usage: ironlb lab"},
		{name: "help", args: []string{"lab", "-h"}, want: 0, wantStderr: "down"},
		{name: "unknown", args: []string{"lab", "sideways"}, want: 2, wantStderr: `unknown lab command "sideways"`},
		{name: "kube-proxy needs a node", args: []string{"lab", "kube-proxy"}, want: 2, wantStderr: "--node NAME"},
		{name: "frr needs a netns", args: []string{"lab", "frr"}, want: 2, wantStderr: "--netns NAME"},
		{name: "forward needs a target", args: []string{"lab", "forward"}, want: 2, wantStderr: "--to HOST:PORT"},
		{name: "down takes no arguments", args: []string{"lab", "down", "everything"}, want: 2, wantStderr: "unexpected arguments"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runIronlb(t, "", tc.args...)
			if code != tc.want || !strings.Contains(stderr, tc.wantStderr) {
				t.Errorf("ironlb %q = %d, stderr %q; want %d with %q", tc.args, code, stderr, tc.want, tc.wantStderr)
			}
		})
	}
}
