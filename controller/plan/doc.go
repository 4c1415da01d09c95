// Package plan answers "which IPs would ironlb give these Services?"
// offline, from manifests. It builds the configuration model, then runs
// the same assign.Assigner the controller runs: first it keeps the IPs
// Services already show in their status, then it gives every Service
// ironlb handles its IPs, in input order. It is pure: a manifest.Set in,
// a Result out, which the plan command prints as JSON, YAML or a table.
package plan
