package noderouter

import "slices"

// VRF imports: which routers ToFRR adds for them and which it refuses.

// withImportedVRFs returns the routers plus one, without neighbors or
// prefixes, for each VRF imported that has none, with the AS of its first
// importer: FRR makes that instance when it loads the import and shows
// it in its running config, so frr.conf must have it too.
func withImportedVRFs(routers []Router) []Router {
	out := routers
	for _, r := range routers {
		for _, v := range r.Imports {
			if v == "default" || slices.ContainsFunc(out, func(x Router) bool { return x.VRF == v }) {
				continue
			}
			if len(out) == len(routers) {
				out = slices.Clone(routers)
			}
			out = append(out, Router{ASN: r.ASN, VRF: v, Origins: r.Origins})
		}
	}
	slices.SortStableFunc(out, func(a, b Router) int { return compareVRF(a.VRF, b.VRF) })
	return out
}

// checkImports refuses an import FRR 8.4 cannot load in the order of the
// file (the default VRF first, then by name): importing a VRF makes its
// BGP instance, with the importer's AS, if it does not exist yet, so a
// router written later for that VRF with another AS is refused ("BGP is
// already running"). The default VRF's router always exists first.
func (t *translator) checkImports(routers []Router) {
	for i := range routers {
		r := &routers[i]
		for _, v := range r.Imports {
			j := slices.IndexFunc(routers, func(x Router) bool { return x.VRF == v || x.VRF == "" && v == "default" })
			if j > i && routers[j].ASN != r.ASN {
				o := slices.IndexFunc(r.Origins, func(o Origin) bool { return o.Kind == KindFRRConfiguration })
				t.fail(r.Origins[max(o, 0)], "imports", "the router of VRF %q (AS %d) imports VRF %q, whose router has AS %d and comes later in frr.conf: FRR would make that VRF's instance with AS %d first; not supported yet", r.VRF, r.ASN, v, routers[j].ASN, r.ASN)
			}
		}
	}
}
