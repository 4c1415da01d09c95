package speaker

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/goleak"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllertest"

	"github.com/ironlb/ironlb/l2/members"
)

func TestMemberKeys(t *testing.T) {
	k := func(s string) []byte { return members.KeyFromSecret([]byte(s)) }
	tests := []struct {
		name    string
		data    map[string][]byte
		want    members.Keys
		wantErr string
	}{
		{name: "one key, as MetalLB's Secret", data: map[string][]byte{"secretkey": []byte("old")}, want: members.Keys{Primary: k("old")}},
		{
			name: "rotation step 1: the new key accepted",
			data: map[string][]byte{"secretkey": []byte("old"), "secretkey-new": []byte("new")},
			want: members.Keys{Primary: k("old"), Extra: [][]byte{k("new")}},
		},
		{
			name: "rotation step 2: the new key used, the old one accepted",
			data: map[string][]byte{"secretkey": []byte("new"), "secretkey-old": []byte("old")},
			want: members.Keys{Primary: k("new"), Extra: [][]byte{k("old")}},
		},
		{
			name: "extra keys in name order; other entries ignored",
			data: map[string][]byte{"secretkey": []byte("a"), "secretkey-z": []byte("z"), "secretkey-b": []byte("b"), "secretkeyx": []byte("x"), "ca.crt": []byte("c")},
			want: members.Keys{Primary: k("a"), Extra: [][]byte{k("b"), k("z")}},
		},
		{name: "no secretkey", data: map[string][]byte{"secretkey-new": []byte("new")}, wantErr: `the memberlist Secret ns/memberlist has no "secretkey"`},
		{name: "empty secretkey", data: map[string][]byte{"secretkey": {}}, wantErr: `has no "secretkey"`},
		{name: "empty extra key", data: map[string][]byte{"secretkey": []byte("a"), "secretkey-new": {}}, wantErr: `the memberlist Secret ns/memberlist: "secretkey-new" is empty`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "memberlist"}, Data: tt.data}
			got, err := memberKeys(sec)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("memberKeys err = %v, want %q", err, tt.wantErr)
				}
				for _, v := range tt.data {
					if len(v) > 0 && strings.Contains(err.Error(), string(v)) {
						t.Errorf("the error %q shows a key", err)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("memberKeys (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSummarizeKeyOps(t *testing.T) {
	a, b := []byte("a"), []byte("b")
	tests := []struct {
		name string
		ops  []members.KeyOp
		want keyChange
	}{
		{name: "nothing"},
		{name: "install", ops: []members.KeyOp{{Kind: members.KeyAdd, Key: b}}, want: keyChange{added: 1}},
		{name: "use an accepted key", ops: []members.KeyOp{{Kind: members.KeyUse, Key: b}}, want: keyChange{used: true}},
		{name: "remove", ops: []members.KeyOp{{Kind: members.KeyRemove, Key: a}}, want: keyChange{removed: 1}},
		{
			name: "use a key never accepted before: unsafe",
			ops:  []members.KeyOp{{Kind: members.KeyAdd, Key: b}, {Kind: members.KeyUse, Key: b}, {Kind: members.KeyRemove, Key: a}},
			want: keyChange{added: 1, used: true, removed: 1, unsafe: true},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := summarizeKeyOps(tt.ops); got != tt.want {
				t.Errorf("summarizeKeyOps = %+v, want %+v", got, tt.want)
			}
		})
	}
}

// registeringInformers hands out the Secret informer and closes
// registered once a handler is added to it.
type registeringInformers struct {
	fake       *controllertest.FakeInformer
	registered chan struct{}
}

func (r *registeringInformers) GetInformer(context.Context, client.Object, ...cache.InformerGetOption) (cache.Informer, error) {
	return registeringInformer{r.fake, r.registered}, nil
}

type registeringInformer struct {
	*controllertest.FakeInformer
	registered chan struct{}
}

func (r registeringInformer) AddEventHandler(h toolscache.ResourceEventHandler) (toolscache.ResourceEventHandlerRegistration, error) {
	reg, err := r.FakeInformer.AddEventHandler(h)
	close(r.registered)
	return reg, err
}

// TestFollowKeys feeds Secret events to a member's key follower: the
// member's keys follow the memberlist Secret; other Secrets, an invalid
// one and a deletion leave them alone.
func TestFollowKeys(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) })
	k := func(s string) []byte { return members.KeyFromSecret([]byte(s)) }
	m, err := members.New(members.Config{Node: "n1", BindAddr: "127.0.0.1", SecretKey: k("old")})
	if err != nil {
		t.Fatal(err)
	}
	logs := &bytes.Buffer{}
	var logMu sync.Mutex
	inf := &registeringInformers{fake: &controllertest.FakeInformer{}, registered: make(chan struct{})}
	gauge := prometheus.NewGauge(prometheus.GaugeOpts{Name: "keys"})
	s := &memberSource{
		cfg: MemberlistConfig{SecretName: "memberlist"}, ns: "ns", informers: inf, keys: gauge,
		log: slog.New(slog.NewJSONHandler(lockedWriter{logs, &logMu}, nil)),
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.followKeys(ctx, m) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("followKeys = %v", err)
		}
		stopped, stop := context.WithCancel(context.Background())
		stop()
		_ = m.Run(stopped)
	})
	<-inf.registered

	secret := func(name string, data map[string]string) *corev1.Secret {
		s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name}, Data: map[string][]byte{}}
		for k, v := range data {
			s.Data[k] = []byte(v)
		}
		return s
	}
	waitKeys := func(what string, want members.Keys) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for cmp.Diff(want, m.Keys()) != "" {
			if time.Now().After(deadline) {
				t.Fatalf("%s: keys (-want +got):\n%s", what, cmp.Diff(want, m.Keys()))
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	steps := []struct {
		name string
		sec  *corev1.Secret
		want members.Keys
	}{
		{"install", secret("memberlist", map[string]string{"secretkey": "old", "secretkey-new": "new"}), members.Keys{Primary: k("old"), Extra: [][]byte{k("new")}}},
		{"another Secret: ignored", secret("other", map[string]string{"secretkey": "x"}), members.Keys{Primary: k("old"), Extra: [][]byte{k("new")}}},
		{"use", secret("memberlist", map[string]string{"secretkey": "new", "secretkey-old": "old"}), members.Keys{Primary: k("new"), Extra: [][]byte{k("old")}}},
		{"invalid: kept", secret("memberlist", map[string]string{"secretkey-old": "old"}), members.Keys{Primary: k("new"), Extra: [][]byte{k("old")}}},
		{"remove", secret("memberlist", map[string]string{"secretkey": "new"}), members.Keys{Primary: k("new")}},
	}
	for _, st := range steps {
		inf.fake.Add(st.sec)
		// A later valid step proves an ignored one was processed: the
		// follower handles events in order.
		waitKeys(st.name, st.want)
	}
	inf.fake.Delete(secret("memberlist", nil))
	inf.fake.Add(secret("memberlist", map[string]string{"secretkey": "new"}))
	waitKeys("deleted, then the same again", members.Keys{Primary: k("new")})
	if got := testutil.ToFloat64(gauge); got != 1 {
		t.Errorf("keys gauge = %v, want 1", got)
	}
	logMu.Lock()
	defer logMu.Unlock()
	for _, want := range []string{`"msg":"memberlist Secret invalid: keeping the keys in use"`, `"msg":"the memberlist Secret was deleted: keeping the keys in use"`, `"added":0,"primaryChanged":false,"removed":1`} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("logs lack %s:\n%s", want, logs)
		}
	}
	for _, secretValue := range []string{`"old"`, `"new"`} {
		if strings.Contains(logs.String(), secretValue) {
			t.Errorf("logs show a key %s:\n%s", secretValue, logs)
		}
	}
}

type lockedWriter struct {
	b  *bytes.Buffer
	mu *sync.Mutex
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}
