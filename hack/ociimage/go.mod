// Module ociimage is a build tool of hack/build-node-images.sh, kept out of
// ironlb's own module so its dependencies stay out of ironlb's go.mod.
module ironlb.local/hack/ociimage

go 1.26

require github.com/google/go-containerregistry v0.22.1

require (
	github.com/klauspost/compress v1.19.2 // indirect
	github.com/opencontainers/go-digest v1.0.0 // indirect
	github.com/opencontainers/image-spec v1.1.1 // indirect
)
