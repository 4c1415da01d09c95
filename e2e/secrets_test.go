package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ironlb/ironlb/api/v1beta1"
	"github.com/ironlb/ironlb/api/v1beta2"
	"github.com/ironlb/ironlb/e2e/lab"
	"github.com/ironlb/ironlb/l2/members"
)

// TestNoSecretsExposed runs the lab with debug logs and gives its BGP
// peers passwords: one in spec.password, one in a passwordSecret, and
// one in a Secret of the wrong type, which the configuration refuses.
// Then it reads everything a user or a monitoring system can see: every
// process log of the lab (FRR's daemons included), all Events, every
// status object, the controller's and speakers' /metrics and `ironlb
// status -o json`. No password and no form of the memberlist key may be
// in any of them.
func TestNoSecretsExposed(t *testing.T) {
	skipUnlessLabCanRun(t)
	cfg := labConfig(t)
	cfg.Speakers = true
	cfg.DebugLogs = true
	l := startLab(t, cfg)
	waitSessions(t, l)
	ctx := t.Context()
	kube := l.Kube()

	var ml corev1.Secret
	if err := kube.Get(ctx, client.ObjectKey{Namespace: lab.MetalLBNamespace, Name: lab.MemberlistSecret}, &ml); err != nil {
		t.Fatal(err)
	}
	secrets := map[string]string{}
	addSecret := func(what string, s []byte) {
		secrets[what] = string(s)
		secrets[what+" (base64)"] = base64.StdEncoding.EncodeToString(s)
		secrets[what+" (hex)"] = hex.EncodeToString(s)
	}
	key := ml.Data["secretkey"]
	if len(key) == 0 {
		t.Fatalf("memberlist Secret has no secretkey: %v", ml.Data)
	}
	addSecret("memberlist secret", key)
	addSecret("memberlist key", members.KeyFromSecret(key))
	inline, inSecret, refused := randomPassword(t, "inline"), randomPassword(t, "secret"), randomPassword(t, "refused")
	addSecret("spec.password", []byte(inline))
	addSecret("passwordSecret", []byte(inSecret))
	addSecret("password of the refused Secret", []byte(refused))

	// The router knows no password, so the sessions go down: the error
	// paths run too.
	setPeer := func(name string, edit func(*v1beta2.BGPPeerSpec)) {
		t.Helper()
		var p v1beta2.BGPPeer
		if err := kube.Get(ctx, client.ObjectKey{Namespace: lab.MetalLBNamespace, Name: name}, &p); err != nil {
			t.Fatal(err)
		}
		edit(&p.Spec)
		if err := kube.Update(ctx, &p); err != nil {
			t.Fatal(err)
		}
	}
	secret := func(name string, typ corev1.SecretType, pw string) *corev1.Secret {
		return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: lab.MetalLBNamespace, Name: name}, Type: typ,
			Data: map[string][]byte{"password": []byte(pw), "username": []byte("ironlb")}}
	}
	for _, o := range []client.Object{
		secret("router-v6-auth", corev1.SecretTypeBasicAuth, inSecret),
		secret("opaque-auth", corev1.SecretTypeOpaque, refused),
	} {
		if err := kube.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	setPeer("router-v4", func(s *v1beta2.BGPPeerSpec) { s.Password = inline })
	setPeer("router-v6", func(s *v1beta2.BGPPeerSpec) { s.PasswordSecret = corev1.SecretReference{Name: "router-v6-auth"} })
	waitCond(t, "every session down, with the passwords applied", func(ctx context.Context) (bool, string) {
		var list v1beta1.SpeakerStatusList
		if err := kube.List(ctx, &list, client.InNamespace(lab.MetalLBNamespace)); err != nil {
			return false, err.Error()
		}
		down := 0
		var seen []string
		for _, st := range list.Items {
			for _, s := range st.Status.Sessions {
				if s.State != "Established" {
					down++
				}
				seen = append(seen, st.Name+":"+s.Peer+"="+s.State)
			}
		}
		return down == 6, strings.Join(seen, " ")
	})
	// A peer whose Secret has the wrong type: the configuration is
	// refused, and the refusal shows in the status and the logs.
	broken := &v1beta2.BGPPeer{
		ObjectMeta: metav1.ObjectMeta{Namespace: lab.MetalLBNamespace, Name: "broken"},
		Spec: v1beta2.BGPPeerSpec{MyASN: lab.NodeAS, ASN: lab.RouterAS, Address: "192.0.2.250",
			PasswordSecret: corev1.SecretReference{Name: "opaque-auth"}},
	}
	if err := kube.Create(ctx, broken); err != nil {
		t.Fatal(err)
	}
	waitCond(t, "the refused configuration reported", func(ctx context.Context) (bool, string) {
		var list v1beta1.ConfigurationStateList
		if err := kube.List(ctx, &list, client.InNamespace(lab.MetalLBNamespace)); err != nil {
			return false, err.Error()
		}
		bad := 0
		var seen []string
		for _, cs := range list.Items {
			if strings.Contains(cs.Status.ErrorSummary, "opaque-auth") {
				bad++
			}
			seen = append(seen, cs.Name+": "+cs.Status.ErrorSummary)
		}
		return bad == 4, strings.Join(seen, "; ")
	})

	exposed := map[string][]byte{}
	for _, p := range l.Processes() {
		exposed["log of "+p.Name] = readFile(t, p.Log)
	}
	for _, ns := range append([]string{lab.RouterNetns}, allNodes()...) {
		logs, _ := filepath.Glob(filepath.Join(l.FRRLogDir(ns), "*.log"))
		for _, f := range logs {
			exposed["FRR log "+ns+"/"+filepath.Base(f)] = readFile(t, f)
		}
	}
	for what, list := range map[string]client.ObjectList{
		"Events":              &corev1.EventList{},
		"SpeakerStatuses":     &v1beta1.SpeakerStatusList{},
		"ServiceBGPStatuses":  &v1beta1.ServiceBGPStatusList{},
		"ServiceL2Statuses":   &v1beta1.ServiceL2StatusList{},
		"ConfigurationStates": &v1beta1.ConfigurationStateList{},
		"IPAddressPools":      &v1beta1.IPAddressPoolList{},
		"BGPPeers' status":    &v1beta2.BGPPeerList{},
		"Services":            &corev1.ServiceList{},
	} {
		if err := kube.List(ctx, list); err != nil {
			t.Fatalf("listing %s: %v", what, err)
		}
		b, err := json.Marshal(list)
		if err != nil {
			t.Fatal(err)
		}
		if what == "BGPPeers' status" {
			// The peers' specs hold spec.password by design; their
			// status must not.
			var statuses []any
			for _, p := range list.(*v1beta2.BGPPeerList).Items {
				statuses = append(statuses, p.Status)
			}
			b, _ = json.Marshal(statuses)
		}
		exposed[what] = b
	}
	if len(exposed["Events"]) < 100 {
		t.Errorf("no Events to look at: %s", exposed["Events"])
	}
	metrics, err := lab.HTTPGet(ctx, lab.ControlPlaneNetns, controllerMetricsURL())
	if err != nil {
		t.Fatal(err)
	}
	exposed["controller /metrics"] = []byte(metrics)
	for _, n := range allNodes() {
		m, err := lab.HTTPGet(ctx, n, speakerMetricsURL)
		if err != nil {
			t.Fatal(err)
		}
		exposed[n+" speaker /metrics"] = []byte(m)
	}
	var stdout, stderr bytes.Buffer
	status := exec.CommandContext(ctx, cfg.Binary, "status", "-o", "json", "--kubeconfig="+l.LocalKubeconfigPath(), "--namespace="+lab.MetalLBNamespace)
	status.Stdout, status.Stderr = &stdout, &stderr
	// status exits non-zero while a configuration is refused or a
	// session is down; its output is what matters here.
	_ = status.Run()
	if !json.Valid(stdout.Bytes()) {
		t.Fatalf("ironlb status -o json printed no JSON: %q (stderr %q)", stdout.String(), stderr.String())
	}
	exposed["ironlb status -o json"] = stdout.Bytes()
	exposed["ironlb status stderr"] = stderr.Bytes()

	for where, text := range exposed {
		for what, s := range secrets {
			if bytes.Contains(text, []byte(s)) {
				i := bytes.Index(text, []byte(s))
				t.Errorf("%s shows the %s: ...%s...", where, what, text[max(0, i-200):min(len(text), i+len(s)+50)])
			}
		}
	}
	t.Logf("looked for %d secret forms in %d sources", len(secrets), len(exposed))
}

// randomPassword returns a password no output can hold by chance.
func randomPassword(t *testing.T, what string) string {
	t.Helper()
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("ilb-%s-%x", what, b)
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading %s: %v", path, err)
	}
	return b
}
