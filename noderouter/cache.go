package noderouter

import (
	frrk8s "github.com/ironlb/ironlb/api/frrk8s/v1beta1"
	"github.com/ironlb/ironlb/frr"
)

// Cache computes the same merge as ForNode, and the same translation as
// ToFRR, reusing the pieces it converted on its previous calls. ForNode
// converts every input on every call: ironlb's own frr.Config (with
// 10,000 Services, reading each network statement and route-map once per
// neighbor) and every FRRConfiguration selecting the node, although one
// object changed; ToFRR reads ironlb's announcements to a neighbor again
// to find the prefixes an FRRConfiguration adds attributes to. A Cache
// kept across reconciles converts only the inputs that changed and reads
// ironlb's announcements once per own Config; the merge of the pieces
// and the translation of the merged model themselves run again (see
// BENCHMARKS.md, BenchmarkForNodeRenderOneChangeIncremental).
//
// ForNode and ToFRR are the reference: Cache.ForNode(own, cfgs, labels,
// opts) returns a Model equal to what ForNode returns for the same
// inputs, or the same error, and Cache.ToFRR(own, m) what ToFRR(own, m)
// returns. Inputs are recognized as follows:
//   - ironlb's own frr.Config by its pointer: the piece of the previous
//     call is reused when own is the same *frr.Config. The caller must
//     not modify a Config once passed; frr.Builder, which the speaker
//     uses, returns the previous Config itself when nothing changed and
//     never modifies one it handed out.
//   - an FRRConfiguration by namespace, name, UID and resourceVersion,
//     which the API server changes on every write of the object: its
//     piece (or its error) is reused when all four are the same. An
//     object without a UID or resourceVersion (one never stored, as in
//     tests) is converted on every call.
//
// A piece is shared by the calls that reuse it and by the Models they
// return (see Merge), and nothing modifies it: callers read the Model or
// copy what they change, as the speaker does when it resolves passwords
// (it sets fields of the Model's own Neighbor values). The Cache holds
// the last own Config, so its pointer cannot be reused for another one.
// Entries of objects absent from a call are dropped. A Cache is not safe
// for concurrent use.
type Cache struct {
	own      *frr.Config
	ownPiece *Model
	pieces   map[string]*cachedPiece
	// call counts the calls, to find the entries a call did not use.
	call uint64
	// outOwn is the own Config whose announcements ownOut holds, per
	// neighbor (translator.ownOut).
	outOwn *frr.Config
	ownOut map[neighborKey][]OutPrefix
	// ownConverted and converted count the conversions of own and of
	// FRRConfigurations, for the tests.
	ownConverted, converted int
}

// cachedPiece is the conversion of one FRRConfiguration.
type cachedPiece struct {
	uid, resourceVersion string
	piece                *Model
	err                  error
	// used is the last call that looked it up.
	used uint64
}

// NewCache returns an empty Cache: its first call converts everything.
func NewCache() *Cache { return &Cache{pieces: map[string]*cachedPiece{}} }

// ForNode returns what ForNode(own, cfgs, nodeLabels, opts) returns,
// converting only the inputs that changed since the previous call.
func (c *Cache) ForNode(own *frr.Config, cfgs []frrk8s.FRRConfiguration, nodeLabels map[string]string, opts Options) (*Model, error) {
	c.call++
	if own != c.own || c.ownPiece == nil {
		c.own, c.ownPiece = own, FromFRR(own)
		c.ownConverted++
	}
	m, err := forNode(c.ownPiece, cfgs, nodeLabels, opts, c.convert)
	for k, e := range c.pieces {
		if e.used != c.call {
			delete(c.pieces, k)
		}
	}
	return m, err
}

// convert returns FromFRRConfiguration(o), from the cache when o is the
// same version of the same object as before.
func (c *Cache) convert(o *frrk8s.FRRConfiguration) (*Model, error) {
	uid, rv := string(o.UID), o.ResourceVersion
	if uid == "" || rv == "" {
		c.converted++
		return FromFRRConfiguration(o)
	}
	key := o.Namespace + "/" + o.Name
	if e, ok := c.pieces[key]; ok && e.uid == uid && e.resourceVersion == rv {
		e.used = c.call
		return e.piece, e.err
	}
	p, err := FromFRRConfiguration(o)
	c.converted++
	c.pieces[key] = &cachedPiece{uid: uid, resourceVersion: rv, piece: p, err: err, used: c.call}
	return p, err
}

// ToFRR returns what ToFRR(own, m) returns, reading ironlb's
// announcements to each of its neighbors once per own Config.
func (c *Cache) ToFRR(own *frr.Config, m *Model) (*frr.Config, error) {
	if own != c.outOwn || c.ownOut == nil {
		c.outOwn, c.ownOut = own, map[neighborKey][]OutPrefix{}
	}
	return toFRR(own, m, c.ownOut)
}
