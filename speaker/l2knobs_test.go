package speaker

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/ironlb/ironlb/l2/announcer"
)

func TestL2ConfigGratuitousInterval(t *testing.T) {
	tests := []struct {
		name     string
		interval time.Duration
		wantErr  string
	}{
		{name: "off"},
		{name: "30s", interval: 30 * time.Second},
		{name: "negative", interval: -time.Second, wantErr: "gratuitous ARP interval must not be negative"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := Config{NodeName: "n1", Namespace: "ns", Log: slog.Default(), L2: &L2Config{Opener: announcer.Sockets{}, GratuitousInterval: tc.interval}}
			err := c.L2.validate()
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("validate() = %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("validate() = %v, want it to say %q", err, tc.wantErr)
			}
		})
	}
}
