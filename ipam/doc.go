// Package ipam is ironlb's address bookkeeping: it hands out LoadBalancer
// IPs from address pools and remembers who holds which address.
//
// It owns pool ranges and their parsing, first-fit allocation per IP
// family, the IP sharing rules (allow-shared-ip), the validation of
// specific addresses a service asks for or already holds, and usage
// counts. It knows nothing about Kubernetes: the caller decides which
// pools a service may use and in which order, and ipam only does the
// arithmetic. Allocation and release cost O(log n) in the number of used
// addresses, whatever the size of the ranges, so a /64 is never walked
// address by address; reusing a shared IP also skips, one by one, the IPs
// of the same sharing key whose ports conflict.
package ipam
