package templates

import (
	"io/fs"
	"strings"
	"testing"
	"text/template"
)

// TestTemplatesParse parses the files with stand-ins of the functions
// package frr provides, and checks the partials the root calls are
// defined.
func TestTemplatesParse(t *testing.T) {
	join := func(sep string, v []string) string { return strings.Join(v, sep) }
	networks := func(any) string { return "" }
	tmpl, err := template.New(Root).Option("missingkey=error").Funcs(template.FuncMap{"join": join, "networks": networks}).ParseFS(Files(), Pattern)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{Root, "router", "neighbor", "route-map", "prefix-list", "bfd"} {
		if tmpl.Lookup(name) == nil {
			t.Errorf("template %q is not defined", name)
		}
	}
	names, err := fs.Glob(Files(), Pattern)
	if err != nil || len(names) != 5 {
		t.Errorf("template files = %q (%v), want the 5 of doc.go", names, err)
	}
}
