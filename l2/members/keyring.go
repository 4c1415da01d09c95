package members

import (
	"bytes"
	"errors"
	"fmt"
	"slices"

	"github.com/hashicorp/memberlist"
)

// Keys is the set of keys a member holds: it encrypts with Primary and
// decrypts with any of Primary and Extra. A key rotation moves every
// member through three sets, each one rolled to every member before the
// next: {old; new} (the new key installed), {new; old} (the new key
// used), {new} (the old key removed). At every moment two members then
// share the key one of them encrypts with.
type Keys struct {
	Primary []byte
	Extra   [][]byte
}

// validate checks every key's length.
func (k Keys) validate() error {
	if len(k.Primary) == 0 {
		return errors.New("memberlist: the primary key is required")
	}
	for i, key := range append([][]byte{k.Primary}, k.Extra...) {
		if err := memberlist.ValidateKey(key); err != nil {
			return fmt.Errorf("memberlist: key %d has %d bytes, want 16, 24 or 32 (see KeyFromSecret)", i, len(key))
		}
	}
	return nil
}

// KeyOpKind is what a KeyOp does to a keyring.
type KeyOpKind string

// The keyring operations, in the order KeyOps returns them.
const (
	KeyAdd    KeyOpKind = "add"    // install a key for decryption
	KeyUse    KeyOpKind = "use"    // encrypt with an installed key
	KeyRemove KeyOpKind = "remove" // uninstall a key that is not used
)

// KeyOp is one change of a keyring.
type KeyOp struct {
	Kind KeyOpKind
	Key  []byte
}

// KeyOps returns the operations that turn a keyring holding have into
// one holding want: first every missing key is added, then the primary
// is switched, then the keys no longer wanted are removed, so that the
// keyring never lacks a key of have or want that is still in use. It
// returns no operation when have and want hold the same keys.
func KeyOps(have, want Keys) []KeyOp {
	held := append([][]byte{have.Primary}, have.Extra...)
	wanted := append([][]byte{want.Primary}, want.Extra...)
	var ops []KeyOp
	for _, k := range wanted {
		if !containsKey(held, k) && !slices.ContainsFunc(ops, func(o KeyOp) bool { return bytes.Equal(o.Key, k) }) {
			ops = append(ops, KeyOp{Kind: KeyAdd, Key: k})
		}
	}
	if !bytes.Equal(have.Primary, want.Primary) {
		ops = append(ops, KeyOp{Kind: KeyUse, Key: want.Primary})
	}
	for _, k := range held {
		if !containsKey(wanted, k) {
			ops = append(ops, KeyOp{Kind: KeyRemove, Key: k})
		}
	}
	return ops
}

func containsKey(keys [][]byte, k []byte) bool {
	return slices.ContainsFunc(keys, func(x []byte) bool { return bytes.Equal(x, k) })
}

// keysOf returns what a keyring holds now.
func keysOf(r *memberlist.Keyring) Keys {
	all := r.GetKeys()
	if len(all) == 0 {
		return Keys{}
	}
	// The keyring's slice changes under a later RemoveKey: copy it.
	k := Keys{Primary: slices.Clone(all[0])}
	for _, x := range all[1:] {
		k.Extra = append(k.Extra, slices.Clone(x))
	}
	return k
}

// newKeyring returns the keyring of a member that starts with k, nil
// when k has no primary key (no encryption).
func newKeyring(k Keys) (*memberlist.Keyring, error) {
	if len(k.Primary) == 0 {
		return nil, nil
	}
	if err := k.validate(); err != nil {
		return nil, err
	}
	r, err := memberlist.NewKeyring(k.Extra, k.Primary)
	if err != nil {
		return nil, fmt.Errorf("memberlist: making the keyring: %w", err)
	}
	return r, nil
}

// SetKeys changes the keys of a running member: it adds the new ones,
// encrypts with want.Primary and drops the keys want lacks, in that
// order (see Keys for a rotation). It returns the operations done. A
// member that runs without encryption cannot start encrypting: that
// needs a restart.
func (m *Members) SetKeys(want Keys) ([]KeyOp, error) {
	if err := want.validate(); err != nil {
		return nil, err
	}
	if m.keyring == nil {
		return nil, errors.New("memberlist: setting keys: this member runs without encryption; restart it to encrypt")
	}
	ops := KeyOps(keysOf(m.keyring), want)
	for _, op := range ops {
		var err error
		switch op.Kind {
		case KeyAdd:
			err = m.keyring.AddKey(op.Key)
		case KeyUse:
			err = m.keyring.UseKey(op.Key)
		case KeyRemove:
			err = m.keyring.RemoveKey(op.Key)
		}
		if err != nil {
			return nil, fmt.Errorf("memberlist: setting keys: %s a key: %w", op.Kind, err)
		}
	}
	return ops, nil
}

// Keys returns the keys the member holds now; zero without encryption.
func (m *Members) Keys() Keys {
	if m.keyring == nil {
		return Keys{}
	}
	return keysOf(m.keyring)
}
