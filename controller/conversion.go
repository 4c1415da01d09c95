package controller

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/ironlb/ironlb/api/v1beta1"
	"github.com/ironlb/ironlb/api/v1beta2"
)

// ConversionPath is where the CRD conversion webhook is served.
const ConversionPath = "/convert"

// maxConversionReview bounds a ConversionReview; the API server sends all
// objects of a list in one.
const maxConversionReview = 64 << 20

// ConversionHandler serves the API server's ConversionReviews for
// BGPPeer, between metallb.io/v1beta1 and metallb.io/v1beta2; Setup
// registers it at ConversionPath. Failures are logged to log.
func ConversionHandler(log *slog.Logger) http.Handler {
	return conversionHandler{log: log}
}

type conversionHandler struct {
	log *slog.Logger
}

func (h conversionHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "only POST", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxConversionReview+1))
	if err != nil {
		http.Error(w, "reading request", http.StatusBadRequest)
		return
	}
	if len(body) > maxConversionReview {
		http.Error(w, "request too large", http.StatusRequestEntityTooLarge)
		return
	}
	var review apiextensionsv1.ConversionReview
	if err := json.Unmarshal(body, &review); err != nil || review.Request == nil {
		http.Error(w, "not a ConversionReview", http.StatusBadRequest)
		return
	}
	resp := convertReview(review.Request)
	if resp.Result.Status != metav1.StatusSuccess {
		h.log.Info("conversion failed", "uid", review.Request.UID, "desiredAPIVersion", review.Request.DesiredAPIVersion, "error", resp.Result.Message)
	}
	out, err := json.Marshal(apiextensionsv1.ConversionReview{TypeMeta: review.TypeMeta, Response: resp})
	if err != nil {
		http.Error(w, "encoding response", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(out)
}

// convertReview converts every object of req to its desired version. One
// failure fails the whole review, as the API server expects.
func convertReview(req *apiextensionsv1.ConversionRequest) *apiextensionsv1.ConversionResponse {
	resp := &apiextensionsv1.ConversionResponse{UID: req.UID, Result: metav1.Status{Status: metav1.StatusSuccess}}
	for i, obj := range req.Objects {
		out, err := convertObject(obj.Raw, req.DesiredAPIVersion)
		if err != nil {
			return &apiextensionsv1.ConversionResponse{
				UID:    req.UID,
				Result: metav1.Status{Status: metav1.StatusFailure, Message: fmt.Sprintf("object %d: %v", i, err)},
			}
		}
		resp.ConvertedObjects = append(resp.ConvertedObjects, runtime.RawExtension{Raw: out})
	}
	return resp
}

// convertObject converts one BGPPeer, given as JSON, to the desired
// apiVersion.
func convertObject(raw []byte, desired string) ([]byte, error) {
	var tm metav1.TypeMeta
	if err := json.Unmarshal(raw, &tm); err != nil {
		return nil, fmt.Errorf("decoding: %w", err)
	}
	if tm.Kind != "BGPPeer" {
		return nil, fmt.Errorf("kind %q: only BGPPeer is converted", tm.Kind)
	}
	v1, v2 := v1beta1.GroupVersion.String(), v1beta2.GroupVersion.String()
	switch {
	case tm.APIVersion == desired && (desired == v1 || desired == v2):
		return raw, nil
	case tm.APIVersion == v1 && desired == v2:
		var in v1beta1.BGPPeer
		if err := json.Unmarshal(raw, &in); err != nil {
			return nil, fmt.Errorf("decoding %s BGPPeer: %w", v1, err)
		}
		out, err := v1beta1.ToV1beta2(&in)
		if err != nil {
			return nil, fmt.Errorf("BGPPeer %s/%s: %w", in.Namespace, in.Name, err)
		}
		return json.Marshal(out)
	case tm.APIVersion == v2 && desired == v1:
		var in v1beta2.BGPPeer
		if err := json.Unmarshal(raw, &in); err != nil {
			return nil, fmt.Errorf("decoding %s BGPPeer: %w", v2, err)
		}
		out, err := v1beta1.FromV1beta2(&in)
		if err != nil {
			return nil, fmt.Errorf("BGPPeer %s/%s: %w", in.Namespace, in.Name, err)
		}
		return json.Marshal(out)
	}
	return nil, errors.New("cannot convert BGPPeer from " + tm.APIVersion + " to " + desired)
}
