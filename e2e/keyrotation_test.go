package e2e

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"maps"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ironlb/ironlb/e2e/lab"
)

// memberlistSettle is how long the rotation test lets memberlist run
// after each step before the next: many probe rounds and failure
// detection windows of the lab's fast-lan profile (about 0.5 s), so that
// a key mismatch would have shown as a failed member and a moved IP.
// It is no assertion on time.
const memberlistSettle = 5 * time.Second

// TestMemberlistKeyRotation rotates the memberlist key in the three
// steps the speakers follow (new key accepted, new key used, old key
// removed; see speaker/memberkeys.go) while the LAN client probes a
// Layer 2 Service every 10 ms: no probe goes unanswered and no node
// gains or loses the Service. Then a speaker started again, knowing
// only the new key, is admitted by the others.
func TestMemberlistKeyRotation(t *testing.T) {
	l := startL2Lab(t)
	h := newL2Harness(t, l)
	h.waitSettled(t)
	ctx := t.Context()
	ip := createL2Service(t, l, l2ServiceSpec{name: "l2-keys", endpoints: allNodes()})[0]
	owner := waitOwner(t, l, "l2-keys", nil)
	waitClientReaches(t, ip, owner)

	key := client.ObjectKey{Namespace: lab.MetalLBNamespace, Name: lab.MemberlistSecret}
	var sec corev1.Secret
	if err := l.Kube().Get(ctx, key, &sec); err != nil {
		t.Fatal(err)
	}
	oldKey := sec.Data["secretkey"]
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		t.Fatal(err)
	}
	newKey := []byte(hex.EncodeToString(raw))

	// A speaker that joined last may still be taking its first Services
	// (the lab's web-l2): count from when the counters stopped moving.
	changesBefore := settledOwnershipChanges(t)
	p := startProber(t, lab.LANClientNetns, serviceURL(ip), 10*time.Millisecond, time.Second)
	p.waitAnsweredBy(t, owner, 20)
	for _, step := range []struct {
		name string
		data map[string][]byte
		// logged is what every speaker logs of the step.
		logged string
		keys   float64
	}{
		{"install the new key", map[string][]byte{"secretkey": oldKey, "secretkey-new": newKey}, `"added":1,"primaryChanged":false,"removed":0`, 2},
		{"use the new key", map[string][]byte{"secretkey": newKey, "secretkey-old": oldKey}, `"added":0,"primaryChanged":true,"removed":0`, 2},
		{"remove the old key", map[string][]byte{"secretkey": newKey}, `"added":0,"primaryChanged":false,"removed":1`, 1},
	} {
		offsets := map[string]int64{}
		for _, n := range lab.Nodes() {
			offsets[n.Name] = fileSize(t, h.speaker(n.Name).log)
		}
		if err := l.Kube().Get(ctx, key, &sec); err != nil {
			t.Fatal(err)
		}
		sec.Data = step.data
		if err := l.Kube().Update(ctx, &sec); err != nil {
			t.Fatalf("%s: updating the Secret: %v", step.name, err)
		}
		for _, n := range lab.Nodes() {
			waitLogLine(t, h.speaker(n.Name).log, offsets[n.Name], "memberlist keys changed", step.logged)
			l2Wait(t, fmt.Sprintf("%s: %s holding %v keys", step.name, n.Name, step.keys), func(ctx context.Context) (bool, string) {
				v, err := metric(ctx, n.Name, "ironlb_speaker_l2_memberlist_keys")
				return err == nil && v == step.keys, fmt.Sprintf("%v, %v", v, err)
			})
		}
		time.Sleep(memberlistSettle)
		t.Logf("%s: rolled to every speaker", step.name)
	}
	probes := p.stop()
	var unanswered, others []string
	for _, r := range probes {
		switch r.node {
		case "":
			unanswered = append(unanswered, fmt.Sprintf("%s: %v", r.sent.Format("15:04:05.000"), r.err))
		case owner:
		default:
			others = append(others, fmt.Sprintf("%s: %s", r.sent.Format("15:04:05.000"), r.node))
		}
	}
	if len(unanswered) > 0 {
		t.Errorf("%d of %d probes unanswered during the rotation: %v", len(unanswered), len(probes), unanswered)
	}
	if len(others) > 0 {
		t.Errorf("%d of %d probes answered by another node than the owner %s: %v", len(others), len(probes), owner, others)
	}
	if after := ownershipChangesByNode(t); !maps.Equal(after, changesBefore) {
		t.Errorf("ownership changes by node: %v before the rotation, %v after", changesBefore, after)
	}
	for _, n := range lab.Nodes() {
		if v, err := metric(ctx, n.Name, "ironlb_speaker_l2_members_live"); err != nil || v != 3 {
			t.Errorf("%s sees %v live speakers (%v) after the rotation, want 3", n.Name, v, err)
		}
	}
	t.Logf("%d probes, all answered by %s", len(probes), owner)

	// The old key is gone for good: a speaker that starts now reads only
	// the new one, and is admitted.
	other := "ilb-n1"
	if owner == other {
		other = "ilb-n2"
	}
	h.signal(t, other, syscall.SIGKILL)
	h.restart(t, other, nil)
	h.waitSettled(t)
	if v, err := metric(ctx, other, "ironlb_speaker_l2_memberlist_keys"); err != nil || v != 1 {
		t.Errorf("the restarted speaker of %s holds %v keys (%v), want 1", other, v, err)
	}
	if got := waitOwner(t, l, "l2-keys", nil); got != owner {
		t.Errorf("owner %s after the restart of %s, want %s still", got, other, owner)
	}
}

// ownershipChangesByNode reads ironlb_speaker_l2_ownership_changes_total
// of every speaker, summed over its labels.
func ownershipChangesByNode(t testing.TB) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for _, n := range lab.Nodes() {
		body, err := lab.HTTPGet(t.Context(), n.Name, "http://127.0.0.1:7474/metrics")
		if err != nil {
			t.Fatalf("metrics of %s: %v", n.Name, err)
		}
		sc := bufio.NewScanner(strings.NewReader(body))
		for sc.Scan() {
			line := sc.Text()
			if !strings.HasPrefix(line, "ironlb_speaker_l2_ownership_changes_total") {
				continue
			}
			f := strings.Fields(line)
			if v, err := strconv.ParseFloat(f[len(f)-1], 64); err == nil {
				out[n.Name] += v
			}
		}
	}
	return out
}

// settledOwnershipChanges waits until ownershipChangesByNode reads the
// same twice, memberlistSettle apart, and returns it.
func settledOwnershipChanges(t testing.TB) map[string]float64 {
	t.Helper()
	last := ownershipChangesByNode(t)
	for range 12 {
		time.Sleep(memberlistSettle)
		now := ownershipChangesByNode(t)
		if maps.Equal(now, last) {
			return now
		}
		t.Logf("ownership changes still moving: %v, then %v", last, now)
		last = now
	}
	t.Fatalf("ownership changes never settled: last %v", last)
	return nil
}
