package lab

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/ironlb/ironlb/internal/scheme"
)

// fieldOwner names the lab in the objects it applies.
const fieldOwner = "ironlb-lab"

// apiServerReady returns nil once the API server answers /readyz.
func (l *Lab) apiServerReady(ctx context.Context) error {
	_, err := l.clients.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
	return err
}

// localAPIReady returns nil once the API server answers /readyz through
// the forwarder.
func (l *Lab) localAPIReady(ctx context.Context) error {
	cs, err := kubernetes.NewForConfig(l.localRest)
	if err != nil {
		return fmt.Errorf("creating clientset: %w", err)
	}
	_, err = cs.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
	return err
}

// bootstrap installs the CRDs, then creates the namespace, the Nodes and
// the configured manifests, and leaves a client that knows the CRDs.
func (l *Lab) bootstrap(ctx context.Context) error {
	s, err := scheme.New()
	if err != nil {
		return err
	}
	// The CRDs go in through a client of their own: the main client is
	// made once the API server serves their kinds.
	crdClient, err := client.New(l.rest, client.Options{Scheme: s})
	if err != nil {
		return fmt.Errorf("creating client: %w", err)
	}
	crds, err := readManifests([]string{l.cfg.CRDDir})
	if err != nil {
		return err
	}
	if err := applyAll(ctx, crdClient, crds); err != nil {
		return err
	}
	if err := waitEstablished(ctx, crdClient, crds); err != nil {
		return err
	}
	if l.kube, err = client.New(l.rest, client.Options{Scheme: s}); err != nil {
		return fmt.Errorf("creating client: %w", err)
	}
	if err := l.kube.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: MetalLBNamespace}}); err != nil {
		return fmt.Errorf("creating namespace %s: %w", MetalLBNamespace, err)
	}
	// Real nodes register themselves, and the chart makes its own
	// memberlist Secret.
	for _, n := range Nodes() {
		if l.cfg.RealNodes {
			break
		}
		if err := createNode(ctx, l.kube, n); err != nil {
			return err
		}
	}
	if !l.cfg.RealNodes {
		if err := l.createMemberlistSecret(ctx); err != nil {
			return err
		}
	}
	objs, err := readManifests(l.cfg.Manifests)
	if err != nil {
		return err
	}
	return applyAll(ctx, l.kube, objs)
}

// createNode makes the Node object a kubelet would, with the node's LAN
// addresses and a Ready condition.
func createNode(ctx context.Context, c client.Client, n Node) error {
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{
		Name: n.Name,
		Labels: map[string]string{
			"kubernetes.io/hostname": n.Name,
			"kubernetes.io/os":       "linux",
		},
	}}
	if err := c.Create(ctx, node); err != nil {
		return fmt.Errorf("creating node %s: %w", n.Name, err)
	}
	now := metav1.NewTime(time.Now())
	node.Status = corev1.NodeStatus{
		Addresses: []corev1.NodeAddress{
			{Type: corev1.NodeInternalIP, Address: n.IPv4.String()},
			{Type: corev1.NodeInternalIP, Address: n.IPv6.String()},
			{Type: corev1.NodeHostName, Address: n.Name},
		},
		Conditions: []corev1.NodeCondition{
			{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "LabNode", LastHeartbeatTime: now, LastTransitionTime: now},
			{Type: corev1.NodeNetworkUnavailable, Status: corev1.ConditionFalse, Reason: "LabNode", LastHeartbeatTime: now, LastTransitionTime: now},
		},
	}
	if err := c.Status().Update(ctx, node); err != nil {
		return fmt.Errorf("setting status of node %s: %w", n.Name, err)
	}
	return nil
}

// readManifests decodes the YAML documents of files and folders (their
// *.yaml and *.yml files, in name order), skipping empty documents.
func readManifests(paths []string) ([]*unstructured.Unstructured, error) {
	var files []string
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("reading manifests: %w", err)
		}
		if !st.IsDir() {
			files = append(files, p)
			continue
		}
		ents, err := os.ReadDir(p)
		if err != nil {
			return nil, fmt.Errorf("reading manifests: %w", err)
		}
		for _, e := range ents {
			if ext := filepath.Ext(e.Name()); !e.IsDir() && (ext == ".yaml" || ext == ".yml") {
				files = append(files, filepath.Join(p, e.Name()))
			}
		}
	}
	var objs []*unstructured.Unstructured
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("reading manifests: %w", err)
		}
		got, err := decodeDocs(data)
		if err != nil {
			return nil, fmt.Errorf("reading manifests: %s: %w", f, err)
		}
		objs = append(objs, got...)
	}
	return objs, nil
}

// decodeDocs splits multi-document YAML into objects.
func decodeDocs(data []byte) ([]*unstructured.Unstructured, error) {
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var objs []*unstructured.Unstructured
	for i := 1; ; i++ {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return objs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", i, err)
		}
		var m map[string]any
		if err := yaml.Unmarshal(doc, &m); err != nil {
			return nil, fmt.Errorf("document %d: %w", i, err)
		}
		if len(m) == 0 {
			continue
		}
		u := &unstructured.Unstructured{Object: m}
		if u.GetAPIVersion() == "" || u.GetKind() == "" || u.GetName() == "" {
			return nil, fmt.Errorf("document %d: apiVersion, kind and metadata.name are required", i)
		}
		objs = append(objs, u)
	}
}

// applyAll server-side applies the objects in order.
func applyAll(ctx context.Context, c client.Client, objs []*unstructured.Unstructured) error {
	for _, o := range objs {
		err := c.Apply(ctx, client.ApplyConfigurationFromUnstructured(o), client.FieldOwner(fieldOwner), client.ForceOwnership)
		if err != nil {
			return fmt.Errorf("applying %s %s: %w", o.GetKind(), objectKey(o), err)
		}
	}
	return nil
}

func objectKey(o client.Object) string {
	if o.GetNamespace() == "" {
		return o.GetName()
	}
	return o.GetNamespace() + "/" + o.GetName()
}

// waitEstablished waits until every CustomResourceDefinition among objs
// is Established.
func waitEstablished(ctx context.Context, c client.Client, objs []*unstructured.Unstructured) error {
	gvk := schema.GroupVersionKind{Group: "apiextensions.k8s.io", Version: "v1", Kind: "CustomResourceDefinition"}
	var names []string
	for _, o := range objs {
		if o.GroupVersionKind() == gvk {
			names = append(names, o.GetName())
		}
	}
	return poll(ctx, 30*time.Second, "CRDs established", func(ctx context.Context) (bool, error) {
		for _, name := range names {
			u := &unstructured.Unstructured{}
			u.SetGroupVersionKind(gvk)
			if err := c.Get(ctx, client.ObjectKey{Name: name}, u); err != nil {
				return false, nil
			}
			conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
			if !slices.ContainsFunc(conds, func(c any) bool {
				m, _ := c.(map[string]any)
				return m["type"] == "Established" && m["status"] == "True"
			}) {
				return false, nil
			}
		}
		return true, nil
	})
}

// poll calls cond every 100ms until it is true, returns an error, ctx
// ends or max passes.
func poll(ctx context.Context, max time.Duration, what string, cond func(context.Context) (bool, error)) error {
	ctx, cancel := context.WithTimeout(ctx, max)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		ok, err := cond(ctx)
		if err != nil {
			return fmt.Errorf("waiting for %s: %w", what, err)
		}
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w", what, ctx.Err())
		case <-tick.C:
		}
	}
}
