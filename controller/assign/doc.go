// Package assign decides the IPs of LoadBalancer Services: it reads each
// Service's request, picks its candidate pools from the configuration
// model and books the addresses in the allocator. It is pure (no API
// calls) and is shared by the controller and the offline plan command,
// so both give the same answers.
package assign
