# syntax=docker/dockerfile:1
# The ironlb image: the one static binary on distroless, as the nonroot user.
# The controller and the speaker run it; the speaker's init container copies
# it into the upstream FRR container for `ironlb frr-agent`.
# internal/charttest builds the binary the same way and checks it is static.

ARG GO_VERSION=1.26.8

FROM --platform=$BUILDPLATFORM golang:${GO_VERSION} AS build
ARG TARGETOS
ARG TARGETARCH
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
# Static (no cgo: no libc, no loader), and without local paths.
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=${TARGETOS} GOARCH=${TARGETARCH} \
    go build -trimpath -o /out/ironlb ./cmd/ironlb

FROM gcr.io/distroless/static:nonroot
COPY --from=build /out/ironlb /ironlb
USER 65532:65532
ENTRYPOINT ["/ironlb"]
