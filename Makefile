# ironlb: see README.md. Every target works on a fresh Debian/Ubuntu machine
# as root; the ones that need the test API server build it first.

GO ?= go
BIN := $(CURDIR)/bin
export KUBEBUILDER_ASSETS := $(BIN)/k8s
export PATH := $(BIN):$(PATH)

GOFILES = $(shell git ls-files -co --exclude-standard '*.go')

.PHONY: all build demo demo-down plan test test-real-nodes test-unit lint generate tools node-tools bench clean lab-up lab-down

all: build

build:
	$(GO) build -o $(BIN)/ironlb ./cmd/ironlb

## demo: (root) brings up the lab with speakers and shows BGP ECMP, HTTP
## through both clients, a Layer 2 failover and a BGP node loss; leaves
## the lab running. demo-down removes it.
demo: build tools
	$(BIN)/ironlb demo --kube-bin $(BIN)/k8s --crds charts/ironlb/crds --manifests examples/lab

demo-down: lab-down

## plan: plans the example configuration offline (no cluster needed).
plan: build
	$(BIN)/ironlb plan -f examples/ -o text

## lab-up: builds the end-to-end lab (root; see e2e/lab) and leaves it
## running; prints KUBECONFIG=<path>. Remove it with lab-down.
## NODES=real runs containerd, kubelet and kube-proxy in every node and
## installs ironlb with helm (see e2e/lab/realnodes.go).
NODES ?= process
lab-up: build tools $(if $(filter real,$(NODES)),node-tools)
ifeq ($(NODES),real)
	$(BIN)/ironlb lab up --nodes real --kube-bin $(BIN)/k8s --crds charts/ironlb/crds --manifests examples/lab
else
	$(BIN)/ironlb lab up --speakers --kube-bin $(BIN)/k8s --crds charts/ironlb/crds --manifests examples/lab
endif

## node-tools: the node binaries and container images of the real-nodes
## lab (bin/node, bin/images), rebuilt only when their inputs change.
node-tools: tools
	hack/build-node-binaries.sh
	hack/build-node-images.sh
	IRONLB_TAG=upgrade IMAGES=ironlb hack/build-node-images.sh

## lab-down: stops and removes the lab; safe to run twice.
lab-down: build
	$(BIN)/ironlb lab down

## tools: installs FRR and iproute2 when missing, and builds kube-apiserver
## and etcd for the integration tests into bin/k8s (and frr-k8s, for the
## frr-k8s mode e2e test, into bin/frr-k8s).
tools:
	hack/install-deps.sh
	hack/build-etcd.sh
	hack/build-kube-apiserver.sh
	hack/build-helm.sh
	hack/build-frr-k8s.sh

## test: every test, including the integration tests against a real API
## server and, as root, the FRR tests against the node image's FRR 10.3
## (hack/test-frr-image.sh) and the chart on three real nodes
## (test-real-nodes, run on its own after the rest, with its own timeout).
test: tools lint node-tools
	$(GO) test -count=1 -timeout 30m ./...
	@if [ "$$(id -u)" = 0 ]; then hack/test-frr-image.sh; else echo "test: not root, skipping hack/test-frr-image.sh"; fi
	$(REAL_NODES_TEST)

## test-real-nodes: (root) the chart on three real nodes (kubelet,
## containerd, kube-proxy per lab node; e2e/realnodes_test.go); builds the
## node binaries and images (node-tools) when missing. `make test` runs it
## too; `go test ./...` alone skips it (IRONLB_E2E_REAL_NODES unset).
test-real-nodes: node-tools
	$(REAL_NODES_TEST) -v

REAL_NODES_TEST = IRONLB_E2E_REAL_NODES=1 $(GO) test -count=1 -timeout 40m -run '^TestRealNodes$$' ./e2e/

## test-unit: the tests that need no API server.
test-unit:
	$(GO) test -short -count=1 ./...

lint:
	@out="$$(gofmt -l $(GOFILES))"; if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

## generate: deepcopy code and CRD manifests from the API types.
generate:
	hack/generate.sh

## bench: benchmarks; see BENCHMARKS.md for the recorded results.
bench: tools
	$(GO) test -run '^$$' -bench 'BenchmarkAllocate|BenchmarkChurn' -benchtime=10x -count=1 ./ipam/
	$(GO) test -run '^$$' -bench . -benchmem -count=1 ./frr/ ./state/ ./l2/election/
	$(GO) test -run '^$$' -bench BenchmarkPlan -benchmem -count=1 ./cmd/ironlb/
	$(GO) test -run XXX -bench ApplyOneServiceInto10k -benchtime 20x -count 2 ./frr/apply/
	$(GO) test -run '^$$' -bench FailureDetection -benchtime 20x ./l2/members/
	$(GO) test -run '^$$' -bench 'ServiceToRoute|L2Failover|BFDLinkCut' -benchtime 20x -timeout 90m ./e2e/
	$(GO) test -run '^$$' -bench L2Soak -benchtime 1x -timeout 30m ./e2e/
	$(GO) test -run '^$$' -bench Chaos -benchtime 1x -timeout 60m ./e2e/

clean:
	rm -rf $(BIN)
