package controller

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/webhook"

	"github.com/ironlb/ironlb/api/v1beta1"
	"github.com/ironlb/ironlb/api/v1beta2"
	"github.com/ironlb/ironlb/internal/scheme"
)

const fuzzNS = "metallb-system"

// admissionReview is the JSON of a review of obj (nil for a delete).
func admissionReview(t testing.TB, kind, name string, op admissionv1.Operation, obj runtime.Object) []byte {
	t.Helper()
	req := &admissionv1.AdmissionRequest{
		UID: types.UID("uid-1"), Kind: metav1.GroupVersionKind{Group: "metallb.io", Version: "v1beta1", Kind: kind},
		Name: name, Namespace: fuzzNS, Operation: op,
	}
	if obj != nil {
		raw, err := json.Marshal(obj)
		if err != nil {
			t.Fatal(err)
		}
		req.Object = runtime.RawExtension{Raw: raw}
	}
	b, err := json.Marshal(admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
		Request:  req,
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// FuzzValidatingWebhook posts arbitrary bodies to the validating
// webhook, over a configuration holding a pool, a BFD profile and a
// peer with a password Secret: it answers every request without
// panicking, and a 200 answer is an AdmissionReview.
func FuzzValidatingWebhook(f *testing.F) {
	s, err := scheme.New()
	if err != nil {
		f.Fatal(err)
	}
	meta := func(name string) metav1.ObjectMeta { return metav1.ObjectMeta{Name: name, Namespace: fuzzNS} }
	pool := &v1beta1.IPAddressPool{ObjectMeta: meta("a"), Spec: v1beta1.IPAddressPoolSpec{Addresses: []string{"192.0.2.0/28"}}}
	peer := &v1beta2.BGPPeer{ObjectMeta: meta("tor"), Spec: v1beta2.BGPPeerSpec{MyASN: 64512, ASN: 64500, Address: "192.0.2.1", BFDProfile: "fast", PasswordSecret: corev1.SecretReference{Name: "auth"}}}
	cl := fake.NewClientBuilder().WithScheme(s).WithObjects(
		pool, peer,
		&v1beta1.BFDProfile{ObjectMeta: meta("fast")},
		&corev1.Secret{ObjectMeta: meta("auth"), Type: corev1.SecretTypeBasicAuth, Data: map[string][]byte{"password": []byte("s3cret")}},
	).Build()
	v := &validator{reader: cl, namespace: fuzzNS, decoder: newDecoder(s), log: slog.New(slog.DiscardHandler)}
	h := &webhook.Admission{Handler: v}

	overlapping := pool.DeepCopy()
	overlapping.Name = "b"
	for _, seed := range [][]byte{
		admissionReview(f, "IPAddressPool", "b", admissionv1.Create, overlapping),
		admissionReview(f, "IPAddressPool", "a", admissionv1.Update, pool),
		admissionReview(f, "BGPPeer", "tor", admissionv1.Update, peer),
		admissionReview(f, "BFDProfile", "fast", admissionv1.Delete, nil),
		admissionReview(f, "BGPAdvertisement", "adv", admissionv1.Create, &v1beta1.BGPAdvertisement{ObjectMeta: meta("adv"), Spec: v1beta1.BGPAdvertisementSpec{IPAddressPools: []string{"nope"}}}),
		admissionReview(f, "L2Advertisement", "l2", admissionv1.Create, &v1beta1.L2Advertisement{ObjectMeta: meta("l2")}),
		admissionReview(f, "Community", "c", admissionv1.Create, &v1beta1.Community{ObjectMeta: meta("c"), Spec: v1beta1.CommunitySpec{Communities: []v1beta1.CommunityAlias{{Name: "gold", Value: "65000:1"}}}}),
		[]byte(`{"request":{"uid":"x","kind":{"kind":"BGPPeer"},"namespace":"metallb-system","operation":"CREATE","object":{"spec":{"myASN":"x"}}}}`),
		[]byte(`{}`), []byte(`null`), []byte(`[`),
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodPost, WebhookPath, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			return
		}
		var out admissionv1.AdmissionReview
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || out.Response == nil {
			t.Fatalf("answer %q is not an AdmissionReview: %v", rec.Body, err)
		}
		if bytes.Contains(rec.Body.Bytes(), []byte("s3cret")) {
			t.Fatalf("answer carries the peer's password: %s", rec.Body)
		}
	})
}

// FuzzConversionWebhook posts arbitrary bodies to the conversion
// webhook: it answers every request without panicking, and a 200
// answer is a ConversionReview.
func FuzzConversionWebhook(f *testing.F) {
	v1Peer := `{"apiVersion":"metallb.io/v1beta1","kind":"BGPPeer","metadata":{"name":"p","namespace":"ns"},"spec":{"myASN":64512,"peerASN":64500,"peerAddress":"192.0.2.1","holdTime":"1m30s","password":"pw"}}`
	v2Peer := `{"apiVersion":"metallb.io/v1beta2","kind":"BGPPeer","metadata":{"name":"p","namespace":"ns"},"spec":{"myASN":64512,"peerASN":64500,"peerAddress":"192.0.2.1","vrf":"red","dynamicASN":"external","passwordSecret":{"name":"s"}}}`
	for _, seed := range []string{
		`{"request":{"uid":"u","desiredAPIVersion":"metallb.io/v1beta2","objects":[` + v1Peer + `]}}`,
		`{"request":{"uid":"u","desiredAPIVersion":"metallb.io/v1beta1","objects":[` + v2Peer + `,` + v1Peer + `]}}`,
		`{"request":{"uid":"u","desiredAPIVersion":"metallb.io/v1beta2","objects":[{"apiVersion":"metallb.io/v1beta1","kind":"BGPPeer","metadata":{"annotations":{"ironlb.io/v1beta2-fields":"{\"vrf\":1}"}}}]}}`,
		`{"request":{"objects":[null]}}`, `{}`, `[`,
	} {
		f.Add([]byte(seed))
	}
	h := ConversionHandler(slog.New(slog.DiscardHandler))
	f.Fuzz(func(t *testing.T, body []byte) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, ConversionPath, bytes.NewReader(body)))
		if rec.Code != http.StatusOK {
			return
		}
		var out apiextensionsv1.ConversionReview
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || out.Response == nil {
			t.Fatalf("answer %q is not a ConversionReview: %v", rec.Body, err)
		}
	})
}
