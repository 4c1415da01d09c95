package lab

import "testing"

func TestRouterConfig(t *testing.T) {
	golden(t, routerConfig())
}
