package controller_test

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/ironlb/ironlb/api/v1beta1"
	"github.com/ironlb/ironlb/api/v1beta2"
	"github.com/ironlb/ironlb/controller"
	"github.com/ironlb/ironlb/internal/testenv"
)

func TestConversionHandler(t *testing.T) {
	v1Peer := `{"apiVersion":"metallb.io/v1beta1","kind":"BGPPeer","metadata":{"name":"p","namespace":"ns"},"spec":{"myASN":64512,"peerASN":64500,"peerAddress":"192.0.2.1","holdTime":"1m30s"},"status":{}}`
	v2Peer := `{"apiVersion":"metallb.io/v1beta2","kind":"BGPPeer","metadata":{"name":"p","namespace":"ns"},"spec":{"myASN":64512,"peerASN":64500,"peerAddress":"192.0.2.1","holdTime":"1m30s"},"status":{}}`
	// The typed encoding writes an empty passwordSecret.
	v2PeerOut := `{"apiVersion":"metallb.io/v1beta2","kind":"BGPPeer","metadata":{"name":"p","namespace":"ns"},"spec":{"myASN":64512,"peerASN":64500,"peerAddress":"192.0.2.1","holdTime":"1m30s","passwordSecret":{}},"status":{}}`
	v2PeerVRF := `{"apiVersion":"metallb.io/v1beta2","kind":"BGPPeer","metadata":{"name":"p","namespace":"ns"},"spec":{"myASN":64512,"peerASN":64500,"peerAddress":"192.0.2.1","vrf":"red"},"status":{}}`
	tests := []struct {
		name       string
		method     string
		body       string
		wantStatus int
		// want holds the converted objects, or the failure message part.
		want        []string
		wantFailure string
	}{
		{
			name:       "v1beta1 to v1beta2",
			body:       review("metallb.io/v1beta2", v1Peer),
			wantStatus: http.StatusOK,
			want:       []string{v2PeerOut},
		},
		{
			name:       "v1beta2 to v1beta1, with the v1beta2-only fields in the annotation",
			body:       review("metallb.io/v1beta1", v2PeerVRF, v2Peer),
			wantStatus: http.StatusOK,
			want: []string{
				`{"apiVersion":"metallb.io/v1beta1","kind":"BGPPeer","metadata":{"name":"p","namespace":"ns","annotations":{"ironlb.io/v1beta2-fields":"{\"vrf\":\"red\"}"}},"spec":{"myASN":64512,"peerASN":64500,"peerAddress":"192.0.2.1"},"status":{}}`,
				v1Peer,
			},
		},
		{
			name:       "already in the desired version",
			body:       review("metallb.io/v1beta2", v2PeerVRF),
			wantStatus: http.StatusOK,
			want:       []string{v2PeerVRF},
		},
		{
			name:        "another kind",
			body:        review("metallb.io/v1beta2", `{"apiVersion":"metallb.io/v1beta1","kind":"IPAddressPool","metadata":{"name":"x"}}`),
			wantStatus:  http.StatusOK,
			wantFailure: `kind "IPAddressPool"`,
		},
		{
			name:        "an unknown version",
			body:        review("metallb.io/v1", v1Peer),
			wantStatus:  http.StatusOK,
			wantFailure: "cannot convert BGPPeer from metallb.io/v1beta1 to metallb.io/v1",
		},
		{
			name:        "an annotation that does not parse",
			body:        review("metallb.io/v1beta2", `{"apiVersion":"metallb.io/v1beta1","kind":"BGPPeer","metadata":{"name":"p","annotations":{"ironlb.io/v1beta2-fields":"{"}}}`),
			wantStatus:  http.StatusOK,
			wantFailure: `BGPPeer /p: metadata.annotations[ironlb.io/v1beta2-fields]: not a v1beta2 spec`,
		},
		{
			name:       "not a review",
			body:       `{"kind":`,
			wantStatus: http.StatusBadRequest,
		},
		{
			name:       "not a POST",
			method:     http.MethodGet,
			wantStatus: http.StatusMethodNotAllowed,
		},
	}
	h := controller.ConversionHandler(slog.New(slog.DiscardHandler))
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			method := tc.method
			if method == "" {
				method = http.MethodPost
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(method, controller.ConversionPath, strings.NewReader(tc.body)))
			if rec.Code != tc.wantStatus {
				t.Fatalf("status %d, want %d (%s)", rec.Code, tc.wantStatus, rec.Body)
			}
			if rec.Code != http.StatusOK {
				return
			}
			var got apiextensionsv1.ConversionReview
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || got.Response == nil {
				t.Fatalf("response %s: %v", rec.Body, err)
			}
			if got.Response.UID != "uid-1" {
				t.Errorf("response UID %q, want the request's", got.Response.UID)
			}
			if tc.wantFailure != "" {
				if got.Response.Result.Status != metav1.StatusFailure || !strings.Contains(got.Response.Result.Message, tc.wantFailure) {
					t.Fatalf("result %+v, want a failure containing %q", got.Response.Result, tc.wantFailure)
				}
				return
			}
			if got.Response.Result.Status != metav1.StatusSuccess {
				t.Fatalf("result %+v", got.Response.Result)
			}
			var objs []any
			for _, o := range got.Response.ConvertedObjects {
				objs = append(objs, jsonValue(t, o.Raw))
			}
			var want []any
			for _, o := range tc.want {
				want = append(want, jsonValue(t, []byte(o)))
			}
			if d := cmp.Diff(want, objs); d != "" {
				t.Errorf("converted objects (-want +got):\n%s", d)
			}
		})
	}
}

func review(desired string, objs ...string) string {
	var raw []string
	raw = append(raw, objs...)
	return `{"apiVersion":"apiextensions.k8s.io/v1","kind":"ConversionReview","request":{"uid":"uid-1","desiredAPIVersion":"` + desired + `","objects":[` + strings.Join(raw, ",") + `]}}`
}

func jsonValue(t *testing.T, b []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	return v
}

// crdObject returns an empty unstructured CRD (the test scheme has no
// apiextensions types).
func crdObject() *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetAPIVersion("apiextensions.k8s.io/v1")
	u.SetKind("CustomResourceDefinition")
	return u
}

// useConversionWebhook points the BGPPeer CRD's conversion at url, as the
// controller points it at its Service in a cluster.
func useConversionWebhook(t *testing.T, c client.Client, url string, caPEM []byte) {
	t.Helper()
	conv := apiextensionsv1.CustomResourceConversion{
		Strategy: apiextensionsv1.WebhookConverter,
		Webhook: &apiextensionsv1.WebhookConversion{
			ClientConfig:             &apiextensionsv1.WebhookClientConfig{URL: &url, CABundle: caPEM},
			ConversionReviewVersions: []string{"v1"},
		},
	}
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&conv)
	if err != nil {
		t.Fatal(err)
	}
	patch, err := json.Marshal(map[string]any{"spec": map[string]any{"conversion": m}})
	if err != nil {
		t.Fatal(err)
	}
	crd := crdObject()
	crd.SetName("bgppeers.metallb.io")
	if err := c.Patch(context.Background(), crd, client.RawPatch(types.MergePatchType, patch)); err != nil {
		t.Fatalf("setting the BGPPeer CRD's conversion webhook: %v", err)
	}
}

// TestConversionOnAPIServer: with the controller's conversion webhook in
// the BGPPeer CRD, a v1beta1 BGPPeer reads as v1beta2 with every field, a
// v1beta2 one reads as v1beta1, and a v1beta1 client that writes back what
// it read keeps the fields v1beta1 lacks. v1beta1 requests go through the
// validating webhook as v1beta2.
func TestConversionOnAPIServer(t *testing.T) {
	cl := newCluster(t, true)
	ctx := context.Background()
	wo := cl.env.WebhookOptions()
	url := "https://" + net.JoinHostPort(wo.LocalServingHost, strconv.Itoa(wo.LocalServingPort)) + controller.ConversionPath
	useConversionWebhook(t, cl.c, url, wo.LocalServingCAData)
	cl.create(&v1beta1.BFDProfile{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "fast"}})

	hold, keep := &metav1.Duration{Duration: 90 * time.Second}, &metav1.Duration{Duration: 30 * time.Second}
	old := &v1beta1.BGPPeer{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "old"},
		Spec: v1beta1.BGPPeerSpec{
			MyASN: 64512, ASN: 4200000000, Address: "192.0.2.1", SrcAddress: "192.0.2.10", Port: 1179,
			HoldTime: hold, KeepaliveTime: keep, RouterID: "192.0.2.10",
			NodeSelectors: []v1beta1.NodeSelector{{MatchLabels: map[string]string{"zone": "a"}, MatchExpressions: []v1beta1.MatchExpression{{Key: "role", Operator: "In", Values: []string{"edge"}}}}},
			Password:      "s3cret", BFDProfile: "fast", EBGPMultiHop: true,
		},
	}
	// The API server's write goes through the conversion webhook, and the
	// validating webhook sees v1beta2 (the test API server would time out
	// on a webhook that is not reachable yet: retry until it is).
	cl.eventually("creating a v1beta1 BGPPeer", func() (bool, string) {
		err := cl.c.Create(ctx, old.DeepCopy())
		return err == nil, errString(err)
	})
	var got v1beta2.BGPPeer
	if err := cl.c.Get(ctx, client.ObjectKey{Namespace: ns, Name: "old"}, &got); err != nil {
		t.Fatalf("reading the v1beta1 peer as v1beta2: %v", err)
	}
	want := v1beta2.BGPPeerSpec{
		MyASN: 64512, ASN: 4200000000, Address: "192.0.2.1", SrcAddress: "192.0.2.10", Port: 1179,
		HoldTime: hold, KeepaliveTime: keep, RouterID: "192.0.2.10",
		NodeSelectors: []metav1.LabelSelector{{MatchLabels: map[string]string{"zone": "a"}, MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "role", Operator: metav1.LabelSelectorOpIn, Values: []string{"edge"}}}}},
		Password:      "s3cret", BFDProfile: "fast", EBGPMultiHop: true,
	}
	if d := cmp.Diff(want, got.Spec); d != "" {
		t.Errorf("v1beta1 peer read as v1beta2 (-want +got):\n%s", d)
	}

	// A v1beta2 peer with fields v1beta1 has no place for.
	peer := &v1beta2.BGPPeer{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "new"},
		Spec: v1beta2.BGPPeerSpec{
			MyASN: 64512, DynamicASN: v1beta2.ExternalASNMode, Address: "192.0.2.2", VRFName: "red",
			ConnectTime: &metav1.Duration{Duration: 5 * time.Second}, EnableGracefulRestart: true, DualStackAddressFamily: true,
		},
	}
	cl.create(peer)
	var asV1 v1beta1.BGPPeer
	if err := cl.c.Get(ctx, client.ObjectKeyFromObject(peer), &asV1); err != nil {
		t.Fatalf("reading the v1beta2 peer as v1beta1: %v", err)
	}
	wantV1 := v1beta1.BGPPeerSpec{MyASN: 64512, Address: "192.0.2.2", Port: 179}
	if d := cmp.Diff(wantV1, asV1.Spec); d != "" {
		t.Errorf("v1beta2 peer read as v1beta1 (-want +got):\n%s", d)
	}
	wantAnn := `{"connectTime":"5s","dualStackAddressFamily":true,"dynamicASN":"external","enableGracefulRestart":true,"vrf":"red"}`
	if got := asV1.Annotations[v1beta1.V1beta2FieldsAnnotation]; got != wantAnn {
		t.Errorf("annotation %q, want %q", got, wantAnn)
	}

	// A v1beta1 client edits what it read and writes it back.
	asV1.Spec.RouterID = "192.0.2.20"
	if err := cl.c.Update(ctx, &asV1); err != nil {
		t.Fatalf("updating through v1beta1: %v", err)
	}
	var after v1beta2.BGPPeer
	if err := cl.c.Get(ctx, client.ObjectKeyFromObject(peer), &after); err != nil {
		t.Fatal(err)
	}
	wantAfter := peer.Spec
	wantAfter.RouterID, wantAfter.Port = "192.0.2.20", 179
	if d := cmp.Diff(wantAfter, after.Spec); d != "" {
		t.Errorf("after a v1beta1 update (-want +got):\n%s", d)
	}
	if _, ok := after.Annotations[v1beta1.V1beta2FieldsAnnotation]; ok {
		t.Errorf("the stored v1beta2 object keeps the conversion annotation")
	}

	// The validating webhook judges v1beta1 peers too.
	bad := &v1beta1.BGPPeer{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "bad"},
		Spec:       v1beta1.BGPPeerSpec{MyASN: 64512, ASN: 64500, Address: "192.0.2.3", BFDProfile: "slow"},
	}
	err := cl.c.Create(ctx, bad)
	if err == nil || !strings.Contains(err.Error(), "denied the request") || !strings.Contains(err.Error(), "slow") {
		t.Errorf("v1beta1 peer with an unknown BFD profile: error %v, want a denial naming it", err)
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// metallbV1beta1CRD is the BGPPeer CRD of a MetalLB release that stored
// v1beta1 (the schema is cut down to what the test writes).
const metallbV1beta1CRD = `
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: bgppeers.metallb.io
spec:
  group: metallb.io
  names: {kind: BGPPeer, listKind: BGPPeerList, plural: bgppeers, singular: bgppeer}
  scope: Namespaced
  versions:
  - name: v1beta1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            x-kubernetes-preserve-unknown-fields: true
          status:
            type: object
`

// TestInstallOverStoredV1beta1 is a cluster that ran MetalLB when it
// stored BGPPeers as v1beta1: the API server refuses a CRD update that
// drops a stored version, so ours must keep v1beta1. After the update, the
// object still stored as v1beta1 reads as v1beta2 through the conversion
// webhook.
func TestInstallOverStoredV1beta1(t *testing.T) {
	env := testenv.Start(t, testenv.Options{})
	c := env.Client
	ctx := context.Background()

	// Replace our CRD with MetalLB's old one.
	crd := crdObject()
	crd.SetName("bgppeers.metallb.io")
	if err := c.Delete(ctx, crd); err != nil {
		t.Fatalf("deleting the BGPPeer CRD: %v", err)
	}
	testenv.Eventually(t, "the BGPPeer CRD gone", func() (bool, string) {
		err := c.Get(ctx, client.ObjectKey{Name: "bgppeers.metallb.io"}, crdObject())
		return apierrors.IsNotFound(err), errString(err)
	})
	old := crdObject()
	if err := yaml.Unmarshal([]byte(metallbV1beta1CRD), &old.Object); err != nil {
		t.Fatal(err)
	}
	if err := c.Create(ctx, old); err != nil {
		t.Fatalf("creating MetalLB's CRD: %v", err)
	}
	if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		t.Fatalf("creating namespace: %v", err)
	}
	stored := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "metallb.io/v1beta1", "kind": "BGPPeer",
		"metadata": map[string]any{"namespace": ns, "name": "tor"},
		"spec": map[string]any{
			"myASN": int64(64512), "peerASN": int64(64500), "peerAddress": "192.0.2.1", "holdTime": "90s",
			"nodeSelectors": []any{map[string]any{"matchLabels": map[string]any{"zone": "a"}}},
		},
	}}
	testenv.Eventually(t, "a BGPPeer stored as v1beta1", func() (bool, string) {
		err := c.Create(ctx, stored.DeepCopy())
		return err == nil, errString(err)
	})

	// Install ours over it, as `kubectl apply` or `helm install` would.
	b, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "charts", "ironlb", "crds", "metallb.io_bgppeers.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	ours := crdObject()
	if err := yaml.Unmarshal(b, &ours.Object); err != nil {
		t.Fatal(err)
	}
	cur := crdObject()
	if err := c.Get(ctx, client.ObjectKey{Name: "bgppeers.metallb.io"}, cur); err != nil {
		t.Fatal(err)
	}
	if sv, _, _ := unstructured.NestedStringSlice(cur.Object, "status", "storedVersions"); !cmp.Equal(sv, []string{"v1beta1"}) {
		t.Fatalf("storedVersions %v, want [v1beta1]", sv)
	}
	ours.SetResourceVersion(cur.GetResourceVersion())
	if err := c.Update(ctx, ours); err != nil {
		t.Fatalf("updating MetalLB's CRD to ours: %v", err)
	}

	// The controller would now point the conversion at its webhook.
	srv := httptest.NewTLSServer(controller.ConversionHandler(slog.New(slog.DiscardHandler)))
	t.Cleanup(srv.Close)
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	useConversionWebhook(t, c, srv.URL+controller.ConversionPath, caPEM)

	var got v1beta2.BGPPeer
	testenv.Eventually(t, "the stored v1beta1 peer read as v1beta2", func() (bool, string) {
		err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: "tor"}, &got)
		return err == nil, errString(err)
	})
	want := v1beta2.BGPPeerSpec{
		// No port: v1beta1 has no default for it (the model takes 179).
		MyASN: 64512, ASN: 64500, Address: "192.0.2.1", HoldTime: &metav1.Duration{Duration: 90 * time.Second},
		NodeSelectors: []metav1.LabelSelector{{MatchLabels: map[string]string{"zone": "a"}}},
	}
	if d := cmp.Diff(want, got.Spec, cmpopts.EquateEmpty()); d != "" {
		t.Errorf("stored v1beta1 peer read as v1beta2 (-want +got):\n%s", d)
	}
	var list v1beta2.BGPPeerList
	if err := c.List(ctx, &list, client.InNamespace(ns)); err != nil || len(list.Items) != 1 {
		t.Errorf("listing v1beta2 peers: %d, %v", len(list.Items), err)
	}
}
