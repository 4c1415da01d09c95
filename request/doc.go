// Package request reads what a Service of type LoadBalancer asks of ironlb:
// whether ironlb handles it, the pool and IPs it requests, its sharing key,
// families, ports and backend key. It is pure: a Service in, a Request or an
// error naming the annotation or field out.
package request
