package main

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/ironlb/ironlb/internal/testenv"
)

func TestMetricsFlags(t *testing.T) {
	for _, tc := range []struct {
		name       string
		args       []string
		wantSecure bool
		wantDir    string
	}{
		{name: "plain HTTP by default", args: nil},
		{name: "HTTPS with a self-signed certificate", args: []string{"-metrics-secure"}, wantSecure: true},
		{name: "HTTPS with a certificate", args: []string{"-metrics-secure", "-metrics-cert-dir=/etc/metrics"}, wantSecure: true, wantDir: "/etc/metrics"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := parseControllerFlags(tc.args, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			o := c.metrics.options(":7472")
			if o.BindAddress != ":7472" || o.SecureServing != tc.wantSecure || (o.FilterProvider != nil) != tc.wantSecure || o.CertDir != tc.wantDir {
				t.Errorf("options = %+v, want secure %v (with the filter) and cert dir %q", o, tc.wantSecure, tc.wantDir)
			}
			s, err := parseSpeakerFlags(append([]string{"-node-name=n1", "-memberlist-bind=off"}, tc.args...), io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			if s.metrics != c.metrics {
				t.Errorf("speaker metrics flags = %+v, controller's %+v; want the same", s.metrics, c.metrics)
			}
		})
	}
}

// TestSecureMetricsAgainstAPIServer serves metrics with -metrics-secure
// against a real API server: a scrape without a token gets 401, one with
// the token of a ServiceAccount that may not get /metrics gets 403, and
// one whose ServiceAccount may gets the metrics.
func TestSecureMetricsAgainstAPIServer(t *testing.T) {
	env := testenv.Start(t, testenv.Options{})
	ctx := t.Context()
	cs, err := kubernetes.NewForConfig(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	const ns = "default"
	token := func(sa string) string {
		t.Helper()
		if _, err := cs.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: sa}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		tr, err := cs.CoreV1().ServiceAccounts(ns).CreateToken(ctx, sa, &authenticationv1.TokenRequest{}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return tr.Status.Token
	}
	reader, stranger := token("prometheus"), token("stranger")
	if _, err := cs.RbacV1().ClusterRoles().Create(ctx, &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: "metrics-reader"},
		Rules:      []rbacv1.PolicyRule{{NonResourceURLs: []string{"/metrics"}, Verbs: []string{"get"}}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "prometheus-metrics-reader"},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "metrics-reader"},
		Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: "prometheus", Namespace: ns}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	c, err := parseControllerFlags([]string{"-metrics-secure", "-metrics-addr=" + freeAddr(t)}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	// The server the manager starts from these options, serving
	// controller-runtime's registry.
	hc, err := rest.HTTPClientFor(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := metricsserver.NewServer(c.metrics.options(c.metricsAddr), env.Config, hc)
	if err != nil {
		t.Fatal(err)
	}
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- srv.Start(sctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("metrics server: %v", err)
		}
	})

	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	get := func(tok string) (int, string, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+c.metricsAddr+"/metrics", nil)
		if err != nil {
			return 0, "", err
		}
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		resp, err := client.Do(req)
		if err != nil {
			return 0, "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), err
	}
	testenv.Eventually(t, "the HTTPS metrics endpoint serving", func() (bool, string) {
		code, _, err := get("")
		if err != nil {
			return false, err.Error()
		}
		return code != 0, ""
	})
	for _, tc := range []struct {
		name     string
		token    string
		wantCode int
	}{
		{name: "no token", wantCode: http.StatusUnauthorized},
		{name: "ServiceAccount without get on /metrics", token: stranger, wantCode: http.StatusForbidden},
		{name: "ServiceAccount with get on /metrics", token: reader, wantCode: http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body, err := get(tc.token)
			if err != nil {
				t.Fatal(err)
			}
			if code != tc.wantCode {
				t.Errorf("GET /metrics = %d, want %d; body %.200s", code, tc.wantCode, body)
			}
			if tc.wantCode == http.StatusOK && !strings.Contains(body, "# TYPE") {
				t.Errorf("GET /metrics body = %.300s, want Prometheus metrics", body)
			}
		})
	}
}

// freeAddr returns a loopback address with a port free now.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(l.Addr().(*net.TCPAddr).Port))
}
