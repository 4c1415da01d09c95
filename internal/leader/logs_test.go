package leader

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/go-logr/logr"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// TestQuietCreateRace logs through logr, as client-go's election does,
// into the wrapped handler.
func TestQuietCreateRace(t *testing.T) {
	exists := apierrors.NewAlreadyExists(schema.GroupResource{Group: "coordination.k8s.io", Resource: "leases"}, "ironlb-controller.metallb.io")
	tests := []struct {
		name      string
		msg       string
		err       error
		wantLevel string
	}{
		{name: "lost the create race", msg: createRaceMsg, err: exists, wantLevel: `"level":"INFO"`},
		{name: "create refused otherwise", msg: createRaceMsg, err: apierrors.NewForbidden(schema.GroupResource{Resource: "leases"}, "x", errors.New("no")), wantLevel: `"level":"ERROR"`},
		{name: "another error of the election", msg: "Failed to update lock", err: exists, wantLevel: `"level":"ERROR"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			h := QuietCreateRace(slog.NewJSONHandler(&buf, nil))
			logr.FromSlogHandler(h).WithName("leaderelection").Error(tt.err, tt.msg, "lock", "metallb-system/ironlb-controller.metallb.io")
			out := buf.String()
			if !strings.Contains(out, tt.wantLevel) || !strings.Contains(out, tt.msg) || !strings.Contains(out, `"lock":"metallb-system/ironlb-controller.metallb.io"`) {
				t.Errorf("logged %s, want %s with the message and its keys", out, tt.wantLevel)
			}
		})
	}
}
