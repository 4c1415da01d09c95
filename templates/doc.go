// Package templates holds the text/template files that write frr.conf
// from the render model of package frr (frr.Config). It is a package of
// its own because go:embed cannot reach a parent folder.
//
// The templates only print fields and range over sorted slices: every
// decision is made in Go, in frr.Build. Conventions:
//
//   - frr.conf.tmpl is the root; router.tmpl, routemap.tmpl,
//     prefixlist.tmpl and bfd.tmpl define the partials "router",
//     "neighbor", "route-map", "prefix-list" and "bfd".
//   - Every line a partial writes starts with a newline and none ends
//     with one, so that partials and optional lines join without blank
//     lines; the root ends the file with a newline.
//   - Optional lines use {{with}} on a field whose zero value means
//     "leave FRR's default", which is never written.
//   - Sections come in the order FRR's show running-config uses, and so
//     do the lines within them.
//
// The templates call two functions: sprig's join, and networks of
// package frr, which writes the network statements of an address family
// ("  network PREFIX route-map MAP", one a line, joined by newlines)
// without the reflection and fmt calls of a range, which took most of
// the rendering time with 10,000 Services. Package frr parses the
// templates once with missingkey=error and these two functions.
package templates
