// Package config turns the metallb.io objects of a cluster into ironlb's
// validated internal model.
//
// It owns one pure function, Build: it takes the objects as listed from
// the API server (or read from YAML), parses every field once, resolves
// the references between objects (pools, peers, BFD profiles, community
// aliases, password Secrets), makes defaults explicit and checks the
// rules that span objects, such as overlapping pools. The result is a
// Model of plain structs in name order, or every problem found, each a
// FieldError naming the object and the field. Build does no I/O and
// knows no Kubernetes client; the same input in any order gives the same
// Model.
//
// The Model also carries the small decisions its consumers share, such
// as which pools a service may take an address from (CandidatePools).
package config
