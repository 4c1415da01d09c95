package frrproc

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestContextLines(t *testing.T) {
	conf := "! comment\nhostname x\nrouter bgp 1\n neighbor a remote-as 2\n !\n address-family ipv4 unicast\n  network p\n exit-address-family\nexit\n!\nroute-map m deny 1\nexit\n"
	got := ContextLines(conf)
	want := []string{
		"hostname x",
		"router bgp 1",
		"router bgp 1 > neighbor a remote-as 2",
		"router bgp 1 > address-family ipv4 unicast",
		"router bgp 1 > address-family ipv4 unicast > network p",
		"route-map m deny 1",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ContextLines (-want +got):\n%s", diff)
	}
	gotMissing := MissingLines(conf, "hostname other\nrouter bgp 1\n address-family ipv4 unicast\n  network p\n")
	wantMissing := []string{"router bgp 1 > neighbor a remote-as 2", "route-map m deny 1"}
	if diff := cmp.Diff(wantMissing, gotMissing); diff != "" {
		t.Errorf("MissingLines (-want +got):\n%s", diff)
	}
}
