// Package leakcheck fails a test that leaves goroutines behind.
//
// It does what go.uber.org/goleak's VerifyNone does, in the small: that
// module is in the module graph but not required by go.mod, so it
// cannot be imported here. Once go.mod requires it, Check(t) can become
// defer goleak.VerifyNone(t).
package leakcheck
