package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/ironlb/ironlb/api/v1beta2"
)

const secretText = "hunter2-very-secret"

func TestPasswordRedaction(t *testing.T) {
	pw := NewPassword(secretText)
	peer := Peer{Name: "p", Password: pw}
	model := &Model{Peers: []Peer{peer}}
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("peer", "password", pw, "peer", peer)
	var textLogged bytes.Buffer
	slog.New(slog.NewTextHandler(&textLogged, nil)).Info("peer", "password", pw)

	outputs := map[string]string{
		"String":   pw.String(),
		"GoString": pw.GoString(),
		"log json": logged.String(),
		"log text": textLogged.String(),
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%10s", "%-8v"} {
		outputs["password "+verb] = fmt.Sprintf(verb, pw)
		outputs["peer "+verb] = fmt.Sprintf(verb, peer)
		outputs["*peer "+verb] = fmt.Sprintf(verb, &peer)
		outputs["model "+verb] = fmt.Sprintf(verb, model)
	}
	for name, v := range map[string]any{"password": pw, "peer": peer, "model": model} {
		j, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("json.Marshal(%s): %v", name, err)
		}
		outputs["json "+name] = string(j)
		y, err := yaml.Marshal(v)
		if err != nil {
			t.Fatalf("yaml.Marshal(%s): %v", name, err)
		}
		outputs["yaml "+name] = string(y)
	}
	text, err := pw.MarshalText()
	if err != nil {
		t.Fatal(err)
	}
	outputs["MarshalText"] = string(text)

	for name, out := range outputs {
		if strings.Contains(out, secretText) || strings.Contains(out, fmt.Sprintf("%x", secretText)) {
			t.Errorf("%s shows the password: %s", name, out)
		}
	}
	for _, name := range []string{"String", "password %v", "password %s", "json password", "log json"} {
		if !strings.Contains(outputs[name], redacted) {
			t.Errorf("%s = %q, want it to say %q", name, outputs[name], redacted)
		}
	}
	if got := pw.Reveal(); got != secretText {
		t.Errorf("Reveal() = %q, want the password", got)
	}
}

func TestPasswordUnset(t *testing.T) {
	var pw Password
	if pw.IsSet() {
		t.Error("zero Password IsSet")
	}
	for _, got := range []string{pw.String(), fmt.Sprint(pw), fmt.Sprintf("%s", pw)} {
		if got != "" {
			t.Errorf("unset password prints %q, want \"\"", got)
		}
	}
	if got := fmt.Sprintf("%#v", pw); got != `config.Password("")` {
		t.Errorf("%%#v = %q", got)
	}
	if !NewPassword("a").Equal(NewPassword("a")) || NewPassword("a").Equal(NewPassword("b")) {
		t.Error("Equal is wrong")
	}
}

// TestPasswordNotInErrors checks that no Build error quotes a password,
// whatever is wrong with it.
func TestPasswordNotInErrors(t *testing.T) {
	long := strings.Repeat(secretText, 10)
	peer := func(name string, f func(*v1beta2.BGPPeerSpec)) v1beta2.BGPPeer {
		p := mkPeer(name, "192.0.2.1", 1, 2)
		f(&p.Spec)
		return p
	}
	o := Objects{
		Namespace: testNS,
		BGPPeers: []v1beta2.BGPPeer{
			peer("inline-space", func(s *v1beta2.BGPPeerSpec) { s.Password = secretText + " x" }),
			peer("inline-long", func(s *v1beta2.BGPPeerSpec) { s.Password = long }),
			peer("both", func(s *v1beta2.BGPPeerSpec) {
				s.Password = secretText
				s.PasswordSecret = corev1.SecretReference{Name: "ok"}
			}),
			peer("secret-newline", func(s *v1beta2.BGPPeerSpec) { s.PasswordSecret = corev1.SecretReference{Name: "newline"} }),
			peer("secret-long", func(s *v1beta2.BGPPeerSpec) { s.PasswordSecret = corev1.SecretReference{Name: "long"} }),
			peer("secret-type", func(s *v1beta2.BGPPeerSpec) { s.PasswordSecret = corev1.SecretReference{Name: "opaque"} }),
		},
		Secrets: []corev1.Secret{
			mkSecret(testNS, "ok", corev1.SecretTypeBasicAuth, map[string]string{"password": secretText}),
			mkSecret(testNS, "newline", corev1.SecretTypeBasicAuth, map[string]string{"password": secretText + "\n"}),
			mkSecret(testNS, "long", corev1.SecretTypeBasicAuth, map[string]string{"password": long}),
			mkSecret(testNS, "opaque", corev1.SecretTypeOpaque, map[string]string{"password": secretText}),
		},
	}
	_, err := Build(o)
	if err == nil {
		t.Fatal("Build accepted bad passwords")
	}
	if got := len(Errors(err)); got != 6 {
		t.Errorf("got %d errors, want 6:\n%v", got, err)
	}
	if strings.Contains(err.Error(), secretText) {
		t.Errorf("an error shows the password:\n%v", err)
	}
}
