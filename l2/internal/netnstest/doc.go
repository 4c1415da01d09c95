// Package netnstest gives tests network namespaces of their own, so that
// raw-socket tests never touch the host's interfaces. Tests that use it
// are skipped when not run as root, and remove what they create in
// t.Cleanup, also when they fail.
package netnstest
