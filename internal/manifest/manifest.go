package manifest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/ironlb/ironlb/api/v1beta1"
	"github.com/ironlb/ironlb/api/v1beta2"
)

// Set holds the decoded objects in input order.
type Set struct {
	Pools             []v1beta1.IPAddressPool
	BGPPeers          []v1beta2.BGPPeer
	BGPAdvertisements []v1beta1.BGPAdvertisement
	L2Advertisements  []v1beta1.L2Advertisement
	BFDProfiles       []v1beta1.BFDProfile
	Communities       []v1beta1.Community
	Services          []corev1.Service
	Nodes             []corev1.Node
	Namespaces        []corev1.Namespace
	Secrets           []corev1.Secret
	EndpointSlices    []discoveryv1.EndpointSlice
	// Skipped lists the documents of other kinds, as "source: apiVersion/kind name".
	Skipped []string
}

// maxDocument bounds one YAML document, so a runaway input cannot exhaust memory.
const maxDocument = 16 << 20

// Decode reads every document of r into the set. source names the input in
// errors (a file name, or "-" for standard input).
func (s *Set) Decode(source string, r io.Reader) error {
	return newDecoder(s).decode(source, r)
}

// decoder reads documents into a set: each document the fast way when it
// can (see fast.go), otherwise the general way.
type decoder struct {
	set *Set
	// fast is whether to try the fast way first.
	fast    bool
	parser  subset
	schemas schemas
	json    []byte
}

func newDecoder(s *Set) *decoder {
	return &decoder{set: s, fast: true, schemas: schemas{}}
}

func (d *decoder) decode(source string, r io.Reader) error {
	reader := newDocReader(r)
	for i := 0; ; i++ {
		doc, err := reader.next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: reading document %d: %w", source, i+1, err)
		}
		if len(doc) > maxDocument {
			return fmt.Errorf("%s: document %d is larger than %d bytes", source, i+1, maxDocument)
		}
		if len(bytes.TrimSpace(doc)) == 0 {
			continue
		}
		if d.fast && d.decodeFast(source, i+1, doc) {
			continue
		}
		if err := d.set.decodeDoc(docName(source, i+1), doc); err != nil {
			return err
		}
	}
}

// docName names document n of source in errors.
func docName(source string, n int) string {
	return fmt.Sprintf("%s: document %d", source, n)
}

// decodeDoc decodes one document the general way: YAML to JSON to the
// object, twice (its kind, then the object).
func (s *Set) decodeDoc(where string, doc []byte) error {
	if len(bytes.TrimSpace(doc)) == 0 {
		return nil
	}
	var head struct {
		metav1.TypeMeta `json:",inline"`
		Metadata        struct {
			Name string `json:"name"`
		} `json:"metadata"`
		Items []jsonRaw `json:"items"`
	}
	if err := yaml.Unmarshal(doc, &head); err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	if head.APIVersion == "" && head.Kind == "" {
		if isComments(doc) {
			return nil
		}
		return fmt.Errorf("%s: no apiVersion and kind", where)
	}
	if head.APIVersion == "v1" && head.Kind == "List" {
		for j, item := range head.Items {
			if err := s.decodeDoc(fmt.Sprintf("%s, item %d", where, j+1), item); err != nil {
				return err
			}
		}
		return nil
	}
	into := s.target(head.APIVersion, head.Kind)
	if into == nil {
		s.skip(where, head.APIVersion, head.Kind, head.Metadata.Name)
		return nil
	}
	if err := into.yaml(doc); err != nil {
		return fmt.Errorf("%s: %s %q: %w", where, head.Kind, head.Metadata.Name, err)
	}
	return nil
}

// skip records a document of a kind ironlb does not read.
func (s *Set) skip(where, apiVersion, kind, name string) {
	s.Skipped = append(s.Skipped, fmt.Sprintf("%s: %s/%s %s", where, apiVersion, kind, name))
}

// jsonRaw keeps a List item undecoded; YAML documents are JSON-compatible
// after conversion, so the item decodes like a document of its own.
type jsonRaw []byte

func (r *jsonRaw) UnmarshalJSON(b []byte) error {
	*r = append((*r)[:0], b...)
	return nil
}

// kindCodec decodes the documents of one kind and appends them to the set.
type kindCodec struct {
	// typ is a pointer to the Go type; nil for a kind that is an error.
	typ reflect.Type
	// yaml decodes a YAML document, json its JSON form; both strictly.
	yaml, json func([]byte) error
}

// target returns how documents of the kind are decoded, or nil for kinds
// ironlb does not read.
func (s *Set) target(apiVersion, kind string) *kindCodec {
	switch apiVersion + "/" + kind {
	case "metallb.io/v1beta1/IPAddressPool":
		return appendTo(&s.Pools)
	case "metallb.io/v1beta2/BGPPeer":
		return appendTo(&s.BGPPeers)
	case "metallb.io/v1beta1/BGPAdvertisement":
		return appendTo(&s.BGPAdvertisements)
	case "metallb.io/v1beta1/L2Advertisement":
		return appendTo(&s.L2Advertisements)
	case "metallb.io/v1beta1/BFDProfile":
		return appendTo(&s.BFDProfiles)
	case "metallb.io/v1beta1/Community":
		return appendTo(&s.Communities)
	case "v1/Service":
		return appendTo(&s.Services)
	case "v1/Node":
		return appendTo(&s.Nodes)
	case "v1/Namespace":
		return appendTo(&s.Namespaces)
	case "v1/Secret":
		return appendTo(&s.Secrets)
	case "discovery.k8s.io/v1/EndpointSlice":
		return appendTo(&s.EndpointSlices)
	case "metallb.io/v1beta1/BGPPeer":
		return &kindCodec{yaml: s.appendV1beta1Peer} // no fast path: v1beta1 peers are rare
	}
	return nil
}

// appendV1beta1Peer decodes a v1beta1 BGPPeer strictly and adds it as
// v1beta2, converted as the API server's conversion webhook does.
func (s *Set) appendV1beta1Peer(doc []byte) error {
	var old v1beta1.BGPPeer
	if err := yaml.UnmarshalStrict(doc, &old); err != nil {
		return err
	}
	p, err := v1beta1.ToV1beta2(&old)
	if err != nil {
		return err
	}
	s.BGPPeers = append(s.BGPPeers, *p)
	return nil
}

// appendTo decodes strictly, so a misspelt field is an error rather than a
// silently ignored setting.
func appendTo[T any](list *[]T) *kindCodec {
	return &kindCodec{
		typ: reflect.TypeFor[*T](),
		yaml: func(doc []byte) error {
			var obj T
			if err := yaml.UnmarshalStrict(doc, &obj); err != nil {
				return err
			}
			*list = append(*list, obj)
			return nil
		},
		json: func(doc []byte) error {
			var obj T
			dec := json.NewDecoder(bytes.NewReader(doc))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&obj); err != nil {
				return err
			}
			*list = append(*list, obj)
			return nil
		},
	}
}

func isComments(doc []byte) bool {
	for _, line := range strings.Split(string(doc), "\n") {
		line = strings.TrimSpace(line)
		if line != "" && !strings.HasPrefix(line, "#") && line != "---" {
			return false
		}
	}
	return true
}

// Load decodes files and folders (every *.yaml, *.yml and *.json file in a
// folder, in name order, not recursing); "-" reads standard input.
func Load(paths []string, stdin io.Reader) (*Set, error) {
	s := &Set{}
	d := newDecoder(s)
	for _, p := range paths {
		if p == "-" {
			if err := d.decode("-", stdin); err != nil {
				return nil, err
			}
			continue
		}
		files, err := expand(p)
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			if err := d.loadFile(f); err != nil {
				return nil, err
			}
		}
	}
	return s, nil
}

func (d *decoder) loadFile(name string) error {
	f, err := os.Open(name)
	if err != nil {
		return fmt.Errorf("reading manifests: %w", err)
	}
	defer f.Close()
	return d.decode(name, f)
}

func expand(path string) ([]string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("reading manifests: %w", err)
	}
	if !st.IsDir() {
		return []string{path}, nil
	}
	entries, err := os.ReadDir(path)
	if err != nil {
		return nil, fmt.Errorf("reading manifests: %w", err)
	}
	var files []string
	for _, e := range entries {
		ext := filepath.Ext(e.Name())
		if !e.IsDir() && (ext == ".yaml" || ext == ".yml" || ext == ".json") {
			files = append(files, filepath.Join(path, e.Name()))
		}
	}
	slices.Sort(files)
	return files, nil
}
