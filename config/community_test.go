package config

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ironlb/ironlb/api/v1beta1"
)

func TestParseCommunity(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    Community
		wantErr string
	}{
		{name: "standard", in: "65000:100", want: Community{Global: 65000, Local1: 100}},
		{name: "standard zero", in: "0:0", want: Community{}},
		{name: "standard max", in: "65535:65535", want: Community{Global: 65535, Local1: 65535}},
		{name: "standard leading zeros", in: "065000:0100", want: Community{Global: 65000, Local1: 100}},
		{name: "large", in: "large:65000:1:2", want: Community{Large: true, Global: 65000, Local1: 1, Local2: 2}},
		{name: "large max", in: "large:4294967295:4294967295:4294967295", want: Community{Large: true, Global: 4294967295, Local1: 4294967295, Local2: 4294967295}},
		{name: "standard first half too big", in: "65536:1", wantErr: `first half: "65536" is not a 16-bit number`},
		{name: "standard second half too big", in: "1:70000", wantErr: `second half: "70000" is not a 16-bit number`},
		{name: "large part too big", in: "large:1:4294967296:0", wantErr: `part 2: "4294967296" is not a 32-bit number`},
		{name: "empty", in: "", wantErr: "want a:b or large:a:b:c"},
		{name: "alias-like", in: "gold", wantErr: "want a:b or large:a:b:c"},
		{name: "three parts without marker", in: "1:2:3", wantErr: "want a:b or large:a:b:c"},
		{name: "large with two parts", in: "large:1:2", wantErr: "want large:a:b:c"},
		{name: "large with four parts", in: "large:1:2:3:4", wantErr: "want large:a:b:c"},
		{name: "upper-case marker", in: "LARGE:1:2:3", wantErr: "want a:b or large:a:b:c"},
		{name: "empty half", in: "1:", wantErr: "second half: empty"},
		{name: "sign", in: "+1:2", wantErr: `"+1" is not a decimal number`},
		{name: "negative", in: "-1:2", wantErr: `"-1" is not a decimal number`},
		{name: "underscore", in: "1_0:2", wantErr: `"1_0" is not a decimal number`},
		{name: "hex", in: "0x10:2", wantErr: `"0x10" is not a decimal number`},
		{name: "space", in: " 1:2", wantErr: `" 1" is not a decimal number`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseCommunity(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseCommunity(%q) error = %v, want one containing %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseCommunity(%q): %v", tt.in, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseCommunity(%q) mismatch (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func TestCommunityString(t *testing.T) {
	tests := []struct {
		name      string
		in        Community
		wantStr   string
		wantValue string
	}{
		{name: "standard", in: Community{Global: 65000, Local1: 100}, wantStr: "65000:100", wantValue: "65000:100"},
		{name: "large", in: Community{Large: true, Global: 1, Local1: 2, Local2: 3}, wantStr: "large:1:2:3", wantValue: "1:2:3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.in.String(); got != tt.wantStr {
				t.Errorf("String() = %q, want %q", got, tt.wantStr)
			}
			if got := tt.in.Value(); got != tt.wantValue {
				t.Errorf("Value() = %q, want %q", got, tt.wantValue)
			}
		})
	}
}

// FuzzParseCommunity checks that parsing never panics and that what
// parses prints back to a string that parses to the same value.
func FuzzParseCommunity(f *testing.F) {
	for _, seed := range []string{
		"65000:100", "0:0", "65535:65535", "65536:1", "large:1:2:3",
		"large:4294967295:0:4294967296", "large:", "large::", ":", "1:2:3",
		"gold", "", "+1:2", "1_0:1", "large:1:2:3:4", "0x1:1",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseCommunity(s)
		if err != nil {
			return
		}
		if !c.Large && (c.Global > 0xffff || c.Local1 > 0xffff || c.Local2 != 0) {
			t.Fatalf("ParseCommunity(%q) = %+v: standard community out of range", s, c)
		}
		back, err := ParseCommunity(c.String())
		if err != nil {
			t.Fatalf("ParseCommunity(%q) = %v, but its String %q does not parse: %v", s, c, c.String(), err)
		}
		if back != c {
			t.Fatalf("round trip of %q: got %+v, want %+v", s, back, c)
		}
	})
}

func TestCommunityAliases(t *testing.T) {
	alias := func(name, value string) v1beta1.CommunityAlias {
		return v1beta1.CommunityAlias{Name: name, Value: value}
	}
	obj := func(name string, aliases ...v1beta1.CommunityAlias) v1beta1.Community {
		return v1beta1.Community{ObjectMeta: meta(name), Spec: v1beta1.CommunitySpec{Communities: aliases}}
	}
	tests := []struct {
		name    string
		in      []v1beta1.Community
		want    map[string]Community
		wantErr []FieldError
	}{
		{
			name: "aliases from several objects",
			in: []v1beta1.Community{
				obj("b", alias("no-advertise", "65535:65282")),
				obj("a", alias("gold", "65000:1"), alias("big", "large:65000:2:3")),
			},
			want: map[string]Community{
				"gold":         {Global: 65000, Local1: 1},
				"big":          {Large: true, Global: 65000, Local1: 2, Local2: 3},
				"no-advertise": {Global: 65535, Local1: 65282},
			},
		},
		{
			name: "duplicate alias across objects",
			in: []v1beta1.Community{
				obj("b", alias("gold", "65000:2")),
				obj("a", alias("gold", "65000:1")),
			},
			wantErr: []FieldError{
				{Kind: KindCommunity, Name: "b", Field: "spec.communities[0].name", Reason: `alias "gold" is already defined by spec.communities[0] of Community "a"`},
			},
		},
		{
			name: "duplicate alias within an object",
			in:   []v1beta1.Community{obj("a", alias("gold", "65000:1"), alias("gold", "65000:1"))},
			wantErr: []FieldError{
				{Kind: KindCommunity, Name: "a", Field: "spec.communities[1].name", Reason: `alias "gold" is already defined by spec.communities[0] of Community "a"`},
			},
		},
		{
			name: "invalid values and names",
			in:   []v1beta1.Community{obj("a", alias("gold", "65000:70000"), alias("", "1:1"), alias("has space", "1:1"), alias("silver", "large:1:2"))},
			wantErr: []FieldError{
				{Kind: KindCommunity, Name: "a", Field: "spec.communities[0].value", Reason: `"70000" is not a 16-bit number`},
				{Kind: KindCommunity, Name: "a", Field: "spec.communities[1].name", Reason: `"" is not an alias`},
				{Kind: KindCommunity, Name: "a", Field: "spec.communities[2].name", Reason: `"has space" is not an alias`},
				{Kind: KindCommunity, Name: "a", Field: "spec.communities[3].value", Reason: "want large:a:b:c"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Build(Objects{Communities: tt.in, Namespace: testNS})
			checkErrs(t, err, tt.wantErr)
			if err != nil {
				return
			}
			if diff := cmp.Diff(tt.want, m.Communities, cmpOpts); diff != "" {
				t.Errorf("Communities mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
