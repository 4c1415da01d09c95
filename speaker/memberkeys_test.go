package speaker

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

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
