package plan

import (
	"bytes"
	"testing"
)

// TestGoldenAdvertisements pins the ADVERTISEMENTS column: the
// advertisements whose serviceSelectors select a Service announce it, a
// Service that none selects shows as not announced, and a Service with
// allow-shared-ip is not announced by an L2Advertisement with
// serviceSelectors (MetalLB's rule), with a note.
func TestGoldenAdvertisements(t *testing.T) {
	set := decode(t, `
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: routed}
spec:
  addresses: [203.0.113.0/28]
---
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: lan}
spec:
  addresses: [192.0.2.0/28]
  serviceAllocation:
    serviceSelectors: [{matchLabels: {network: lan}}]
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: public}
spec:
  ipAddressPools: [routed]
  serviceSelectors: [{matchLabels: {exposure: public}}]
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: web}
spec:
  ipAddressPools: [routed]
  serviceSelectors: [{matchExpressions: [{key: tier, operator: In, values: [web, edge]}]}]
---
apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata: {name: lan}
spec:
  ipAddressPools: [lan]
  serviceSelectors: [{matchLabels: {exposure: lan}}]
---
apiVersion: v1
kind: Service
metadata: {name: shop, namespace: apps, labels: {exposure: public, tier: web}}
spec: {type: LoadBalancer, ports: [{port: 443}]}
---
apiVersion: v1
kind: Service
metadata: {name: api, namespace: apps, labels: {tier: edge}}
spec: {type: LoadBalancer, ports: [{port: 443}]}
---
apiVersion: v1
kind: Service
metadata: {name: batch, namespace: apps, labels: {tier: batch}}
spec: {type: LoadBalancer, ports: [{port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: printer, namespace: office, labels: {network: lan, exposure: lan}}
spec: {type: LoadBalancer, ports: [{port: 631}]}
---
apiVersion: v1
kind: Service
metadata: {name: dns-tcp, namespace: office, labels: {network: lan, exposure: lan}, annotations: {metallb.io/allow-shared-ip: dns}}
spec: {type: LoadBalancer, ports: [{port: 53, protocol: TCP}]}
---
apiVersion: v1
kind: Service
metadata: {name: dns-udp, namespace: office, labels: {network: lan, exposure: lan}, annotations: {metallb.universe.tf/allow-shared-ip: dns}}
spec: {type: LoadBalancer, ports: [{port: 53, protocol: UDP}]}
`)
	got, err := Plan(set, Options{})
	if err != nil {
		t.Fatalf("Plan: %v", err)
	}
	var buf bytes.Buffer
	if err := WriteText(&buf, got); err != nil {
		t.Fatal(err)
	}
	buf.WriteString("\n")
	buf.Write(marshal(t, got))
	golden(t, buf.Bytes())
}
