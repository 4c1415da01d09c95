package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"sigs.k8s.io/yaml"
)

// gratuitousInterval is the value of --gratuitous-arp-interval: a
// duration ("30s"), or a bare number of seconds as MetalLB's flag and
// chart value take it ("30").
type gratuitousInterval time.Duration

func (g *gratuitousInterval) String() string { return time.Duration(*g).String() }

func (g *gratuitousInterval) Set(s string) error {
	s = strings.TrimSpace(s)
	d, err := time.ParseDuration(s)
	if err != nil {
		secs, serr := strconv.ParseUint(s, 10, 32)
		if serr != nil {
			return fmt.Errorf("%q is neither a duration (30s) nor a number of seconds", s)
		}
		d = time.Duration(secs) * time.Second
	}
	if d < 0 {
		return fmt.Errorf("%q is negative", s)
	}
	*g = gratuitousInterval(d)
	return nil
}

// excludeL2 is MetalLB's excludel2.yaml, the key of its
// metallb-excludel2 ConfigMap.
type excludeL2 struct {
	AnnouncedInterfacesToExclude []string `json:"announcedInterfacesToExclude"`
}

// parseExcludeL2 reads the interface name expressions of an
// excludel2.yaml; file names it in errors.
func parseExcludeL2(file string, data []byte) ([]string, error) {
	var c excludeL2
	if err := yaml.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	for i, p := range c.AnnouncedInterfacesToExclude {
		if _, err := regexp.Compile(p); err != nil {
			return nil, fmt.Errorf("%s: announcedInterfacesToExclude[%d] %q: %w", file, i, p, err)
		}
	}
	return c.AnnouncedInterfacesToExclude, nil
}

// readExcludeL2 reads an excludel2.yaml; a missing file excludes
// nothing, as in MetalLB (its ConfigMap is optional).
func readExcludeL2(file string) ([]string, error) {
	data, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", file, err)
	}
	return parseExcludeL2(file, data)
}

// compileExcludes compiles interface name expressions; flag names the
// origin in errors.
func compileExcludes(flag string, patterns []string) ([]*regexp.Regexp, error) {
	out := make([]*regexp.Regexp, 0, len(patterns))
	for _, p := range patterns {
		re, err := regexp.Compile(p)
		if err != nil {
			return nil, fmt.Errorf("%s %q: %w", flag, p, err)
		}
		out = append(out, re)
	}
	return out, nil
}
