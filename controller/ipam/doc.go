// Package ipam is ironlb's address bookkeeping: it hands out LoadBalancer
// IPs from address pools and remembers who holds which address.
//
// It owns pool ranges and their parsing, first-fit allocation per IP
// family, the IP sharing rules (allow-shared-ip), the validation of
// specific addresses a service asks for or already holds, and usage
// counts. It knows nothing about Kubernetes: the caller decides which
// pools a service may use and in which order, and ipam only does the
// arithmetic. Every operation costs O(log n) or better in the number of
// assignments, whatever the size of the ranges, so a /64 is never walked
// address by address.
package ipam
