package config

import (
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestFieldErrorError(t *testing.T) {
	tests := []struct {
		name string
		err  FieldError
		want string
	}{
		{
			name: "with field",
			err:  FieldError{Kind: KindIPAddressPool, Name: "pool-a", Field: "spec.addresses[1]", Reason: `"192.0.2.0/33" is not a valid CIDR or range`},
			want: `IPAddressPool "pool-a": spec.addresses[1]: "192.0.2.0/33" is not a valid CIDR or range`,
		},
		{
			name: "whole object",
			err:  FieldError{Kind: KindBGPPeer, Name: "p", Reason: "broken"},
			want: `BGPPeer "p": broken`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestErrors(t *testing.T) {
	a := FieldError{Kind: KindBGPPeer, Name: "a", Reason: "x"}
	b := FieldError{Kind: KindBGPPeer, Name: "b", Reason: "y"}
	c := FieldError{Kind: KindBGPPeer, Name: "c", Reason: "z"}
	tests := []struct {
		name string
		err  error
		want []FieldError
	}{
		{name: "nil", err: nil, want: nil},
		{name: "other error", err: errors.New("boom"), want: nil},
		{name: "one", err: a, want: []FieldError{a}},
		{name: "pointer", err: &b, want: []FieldError{b}},
		{name: "joined and wrapped", err: fmt.Errorf("loading: %w", errors.Join(a, errors.Join(b, errors.New("other")), c)), want: []FieldError{a, b, c}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, Errors(tt.err)); diff != "" {
				t.Errorf("Errors mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestProblemsOrderAndDedup(t *testing.T) {
	var p problems
	p.add(KindL2Advertisement, "a", "f", "l2")
	p.add(KindIPAddressPool, "b", "f1", "first")
	p.add(KindCommunity, "z", "", "community")
	p.add(KindIPAddressPool, "a", "f", "pool a")
	p.add(KindIPAddressPool, "b", "f0", "second")
	p.add(KindIPAddressPool, "b", "f1", "first")
	want := []FieldError{
		{Kind: KindCommunity, Name: "z", Reason: "community"},
		{Kind: KindIPAddressPool, Name: "a", Field: "f", Reason: "pool a"},
		{Kind: KindIPAddressPool, Name: "b", Field: "f1", Reason: "first"},
		{Kind: KindIPAddressPool, Name: "b", Field: "f0", Reason: "second"},
		{Kind: KindL2Advertisement, Name: "a", Field: "f", Reason: "l2"},
	}
	if diff := cmp.Diff(want, Errors(p.err())); diff != "" {
		t.Errorf("problems mismatch (-want +got):\n%s", diff)
	}
	var none problems
	if err := none.err(); err != nil {
		t.Errorf("err() with no problems = %v, want nil", err)
	}
}
