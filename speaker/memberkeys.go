package speaker

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ironlb/ironlb/l2/members"
)

// The memberlist Secret holds the key memberlist encrypts with under
// MemberlistSecretKey, as in MetalLB, and, while a rotation rolls, more
// keys that are accepted from the others: every entry whose name starts
// with MemberlistSecretKey followed by "-" ("secretkey-new",
// "secretkey-old"). A rotation takes three edits of the Secret, each
// seen by every speaker before the next:
//
//  1. add the new key as secretkey-new: the speakers accept it;
//  2. move it to secretkey and the old one to secretkey-old: the
//     speakers encrypt with the new key and still accept the old one;
//  3. remove secretkey-old: the old key is refused.
//
// The speakers follow the Secret as it changes; at every moment two of
// them share the key one of them encrypts with.
const memberlistExtraKeyPrefix = MemberlistSecretKey + "-"

// memberKeys returns the memberlist keys a Secret holds: the key to
// encrypt with, from MemberlistSecretKey, and the further accepted ones,
// from the entries named with memberlistExtraKeyPrefix, in name order.
// Errors name the Secret and the entry, never a value.
func memberKeys(sec *corev1.Secret) (members.Keys, error) {
	name := sec.Namespace + "/" + sec.Name
	primary := sec.Data[MemberlistSecretKey]
	if len(primary) == 0 {
		return members.Keys{}, fmt.Errorf("the memberlist Secret %s has no %q", name, MemberlistSecretKey)
	}
	keys := members.Keys{Primary: members.KeyFromSecret(primary)}
	var extra []string
	for k := range sec.Data {
		if strings.HasPrefix(k, memberlistExtraKeyPrefix) {
			extra = append(extra, k)
		}
	}
	slices.Sort(extra)
	for _, k := range extra {
		if len(sec.Data[k]) == 0 {
			return members.Keys{}, fmt.Errorf("the memberlist Secret %s: %q is empty", name, k)
		}
		keys.Extra = append(keys.Extra, members.KeyFromSecret(sec.Data[k]))
	}
	return keys, nil
}

// keyChange summarizes keyring operations for the log.
type keyChange struct {
	added, removed int
	used           bool
	// unsafe is set when the key to encrypt with was added and used in
	// one step: the speakers that have not seen the Secret yet cannot
	// read this one's messages until they do.
	unsafe bool
}

func summarizeKeyOps(ops []members.KeyOp) keyChange {
	var c keyChange
	for _, op := range ops {
		switch op.Kind {
		case members.KeyAdd:
			c.added++
		case members.KeyRemove:
			c.removed++
		case members.KeyUse:
			c.used = true
			c.unsafe = slices.ContainsFunc(ops, func(o members.KeyOp) bool {
				return o.Kind == members.KeyAdd && bytes.Equal(o.Key, op.Key)
			})
		}
	}
	return c
}

// secretInformers gives the informer of Secrets: the manager's cache.
type secretInformers interface {
	GetInformer(ctx context.Context, obj client.Object, opts ...cache.InformerGetOption) (cache.Informer, error)
}

// followKeys keeps m's keys those of the memberlist Secret as it changes,
// until ctx ends. An invalid or deleted Secret keeps the keys in use.
func (s *memberSource) followKeys(ctx context.Context, m *members.Members) error {
	inf, err := s.informers.GetInformer(ctx, &corev1.Secret{})
	if err != nil {
		return fmt.Errorf("watching the memberlist Secret %s/%s: %w", s.ns, s.cfg.SecretName, err)
	}
	// The latest version only: an older one waiting is replaced. The
	// informer calls the handler from one goroutine.
	latest := make(chan *corev1.Secret, 1)
	offer := func(obj any) {
		sec, ok := obj.(*corev1.Secret)
		if !ok || sec.Namespace != s.ns || sec.Name != s.cfg.SecretName {
			return
		}
		select {
		case <-latest:
		default:
		}
		latest <- sec
	}
	reg, err := inf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc:    offer,
		UpdateFunc: func(_, obj any) { offer(obj) },
		DeleteFunc: func(obj any) {
			if sec, ok := obj.(*corev1.Secret); ok && sec.Namespace == s.ns && sec.Name == s.cfg.SecretName {
				s.log.Warn("the memberlist Secret was deleted: keeping the keys in use", "secret", s.ns+"/"+s.cfg.SecretName)
			}
		},
	})
	if err != nil {
		return fmt.Errorf("watching the memberlist Secret %s/%s: %w", s.ns, s.cfg.SecretName, err)
	}
	defer func() { _ = inf.RemoveEventHandler(reg) }()
	for {
		select {
		case <-ctx.Done():
			return nil
		case sec := <-latest:
			s.applyKeys(m, sec)
		}
	}
}

// applyKeys gives m the keys of sec.
func (s *memberSource) applyKeys(m *members.Members, sec *corev1.Secret) {
	keys, err := memberKeys(sec)
	if err != nil {
		s.log.Error("memberlist Secret invalid: keeping the keys in use", "error", err)
		return
	}
	ops, err := m.SetKeys(keys)
	if err != nil {
		s.log.Error("changing the memberlist keys failed: keeping the keys in use", "error", err)
		return
	}
	s.keys.Set(float64(1 + len(keys.Extra)))
	if len(ops) == 0 {
		return
	}
	c := summarizeKeyOps(ops)
	s.log.Info("memberlist keys changed", "secret", s.ns+"/"+s.cfg.SecretName, "added", c.added, "primaryChanged", c.used, "removed", c.removed, "keys", len(m.Keys().Extra)+1)
	if c.unsafe {
		s.log.Warn("the memberlist key to encrypt with was not accepted before: speakers that have not seen the Secret yet cannot read this one; rotate in three steps (see the memberlist Secret's docs)")
	}
}

// newKeysGauge registers the gauge of the memberlist keys held.
func newKeysGauge(reg prometheus.Registerer) (prometheus.Gauge, error) {
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "ironlb_speaker_l2_memberlist_keys",
		Help: "Keys this node's memberlist accepts (the one it encrypts with included): 2 while a key rotation rolls, 0 without encryption.",
	})
	if err := reg.Register(g); err != nil {
		return nil, fmt.Errorf("registering the memberlist keys gauge: %w", err)
	}
	return g, nil
}
