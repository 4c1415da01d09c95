// Package status turns what ironlb writes into the API (Services with
// their IPs and pool, ServiceBGPStatus and ServiceL2Status, SpeakerStatus,
// ConfigurationState, the controller's events) and the metallb.io
// configuration into one Report for people: per Service its IPs, pool,
// mode and announcing nodes; per node its BGP sessions and last FRR apply;
// the configuration errors the components report. Build is pure; reading
// the objects from the API is the caller's job (ironlb status).
package status
