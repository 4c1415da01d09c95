package templates

import (
	"embed"
	"io/fs"
)

// Root is the template that writes a whole frr.conf; it calls the
// partials the other files define.
const Root = "frr.conf.tmpl"

// Pattern matches every template file in Files.
const Pattern = "*.tmpl"

//go:embed *.tmpl
var files embed.FS

// Files returns the template files.
func Files() fs.FS { return files }
