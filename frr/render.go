package frr

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig/v3"

	"github.com/ironlb/ironlb/templates"
)

// Renderer writes frr.conf files. It parses the templates once; Render
// may be called from several goroutines at once.
type Renderer struct {
	tmpl *template.Template
}

// NewRenderer parses the templates of package templates. They may call
// only the sprig functions listed here, not all of sprig, and ours:
// networks (networkStatements).
func NewRenderer() (*Renderer, error) {
	all := sprig.TxtFuncMap()
	funcs := template.FuncMap{"networks": networkStatements}
	for _, name := range []string{"join"} {
		f, ok := all[name]
		if !ok {
			return nil, fmt.Errorf("parsing frr templates: sprig has no function %q", name)
		}
		funcs[name] = f
	}
	t, err := template.New(templates.Root).Option("missingkey=error").Funcs(funcs).ParseFS(templates.Files(), templates.Pattern)
	if err != nil {
		return nil, fmt.Errorf("parsing frr templates: %w", err)
	}
	return &Renderer{tmpl: t}, nil
}

// Render returns the frr.conf of cfg.
func (r *Renderer) Render(cfg *Config) ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(sizeHint(cfg))
	if err := r.Write(&buf, cfg); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Write writes the frr.conf of cfg to w.
func (r *Renderer) Write(w io.Writer, cfg *Config) error {
	if cfg == nil {
		return errors.New("rendering frr.conf: no config")
	}
	if err := r.tmpl.ExecuteTemplate(w, templates.Root, cfg); err != nil {
		return fmt.Errorf("rendering frr.conf: %w", err)
	}
	return nil
}

// networkStatements returns the network statements of an address family, one
// "  network PREFIX route-map MAP" line each (without the route-map when
// the Network has none), joined by newlines, as
// router.tmpl would write them with a range over the Networks; it is a
// template function because that range, which evaluates fields by
// reflection and prints each prefix through fmt, took most of the
// rendering time of 10,000 Services.
func networkStatements(networks []Network) string {
	const network, routeMap = "  network ", " route-map "
	n := 0
	for _, nw := range networks {
		n += len(network) + len("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128") + len(routeMap) + len(nw.RouteMap) + 1
	}
	var b strings.Builder
	b.Grow(n)
	var prefix [64]byte
	for i, nw := range networks {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(network)
		if nw.Prefix.IsValid() {
			b.Write(nw.Prefix.AppendTo(prefix[:0]))
		} else {
			b.WriteString(nw.Prefix.String()) // what fmt prints for it
		}
		if nw.RouteMap != "" {
			b.WriteString(routeMap)
			b.WriteString(nw.RouteMap)
		}
	}
	return b.String()
}

// sizeHint guesses the size of the rendered file, mostly network
// statements, to allocate once.
func sizeHint(cfg *Config) int {
	n := 4096
	if cfg == nil {
		return n
	}
	for _, r := range cfg.Routers {
		for _, af := range r.AddressFamilies {
			n += 80 * len(af.Networks)
		}
	}
	return n
}
