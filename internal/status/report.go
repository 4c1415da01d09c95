package status

import (
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"

	frrk8s "github.com/ironlb/ironlb/api/frrk8s/v1beta1"
	"github.com/ironlb/ironlb/api/v1beta1"
	"github.com/ironlb/ironlb/config"
)

// Objects is everything a Report is built from, as listed from the API
// server. The order of every slice is irrelevant.
type Objects struct {
	// Config holds the metallb.io objects of ironlb's namespace. Secrets
	// are not needed: Build ignores session passwords.
	Config config.Objects
	// Services are the Services to report on; those ironlb does not
	// handle (another type or loadBalancerClass) are left out.
	Services []corev1.Service
	// BGPStatuses and L2Statuses are the speakers' per-Service
	// announcement records.
	BGPStatuses []v1beta1.ServiceBGPStatus
	L2Statuses  []v1beta1.ServiceL2Status
	// Speakers are the nodes' SpeakerStatus objects.
	Speakers []v1beta1.SpeakerStatus
	// ConfigurationStates are the components' verdicts on the
	// configuration.
	ConfigurationStates []v1beta1.ConfigurationState
	// Events may hold the controller's events; the newest AllocationFailed
	// event of a Service without IPs explains why it has none.
	Events []eventsv1.Event
	// FRRConfigurations, FRRNodeStates and Nodes (for their labels) say
	// what the node router does on each node; all may be empty.
	FRRConfigurations []frrk8s.FRRConfiguration
	FRRNodeStates     []frrk8s.FRRNodeState
	Nodes             []corev1.Node
	// LBClass is the loadBalancerClass ironlb serves; empty for Services
	// without a class only.
	LBClass string
	// Now is the time ages and uptimes are measured to; zero leaves them
	// out.
	Now time.Time
}

// Mode says how a pool's addresses are announced.
type Mode string

// The modes. ModeUnknown is reported when the current configuration is
// invalid, so which advertisements apply cannot be known.
const (
	ModeBGP     Mode = "BGP"
	ModeL2      Mode = "L2"
	ModeBoth    Mode = "BGP+L2"
	ModeNone    Mode = "none"
	ModeUnknown Mode = "unknown"
)

// Report is the status of ironlb for people.
type Report struct {
	// Services sorted by namespace and name.
	Services []Service `json:"services"`
	// Nodes are the nodes with a SpeakerStatus, sorted by name.
	Nodes []Node `json:"nodes"`
	// Pools sorted by name.
	Pools []Pool `json:"pools"`
	// Configuration lists the components' verdicts, sorted by object name.
	Configuration []ConfigState `json:"configuration"`
	// ConfigErrors are the distinct configuration problems, each with the
	// components that report it.
	ConfigErrors []ConfigError `json:"configErrors,omitempty"`
}

// Service is one LoadBalancer Service.
type Service struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// IPs are the ingress IPs, IPv4 first; empty while none is assigned.
	IPs []string `json:"ips"`
	// Pool the IPs came from.
	Pool string `json:"pool,omitempty"`
	// Mode is how the pool is announced; empty without IPs.
	Mode Mode `json:"mode,omitempty"`
	// Announcers are the nodes announcing the Service, sorted by name.
	Announcers []Announcer `json:"announcers,omitempty"`
	// Note explains a Service without IPs or without announcement.
	Note string `json:"note,omitempty"`
}

// Key returns "namespace/name".
func (s Service) Key() string { return s.Namespace + "/" + s.Name }

// Announcer is one node announcing a Service.
type Announcer struct {
	Node string `json:"node"`
	// BGP is set when the node announces the Service over BGP.
	BGP *BGPAnnouncement `json:"bgp,omitempty"`
	// L2 is set when the node answers ARP/NDP for the Service's IPs.
	L2 *L2Announcement `json:"l2,omitempty"`
}

// BGPAnnouncement is a node's BGP announcement of a Service.
type BGPAnnouncement struct {
	// Peers are the BGPPeers the node announces the Service to.
	Peers []string `json:"peers"`
}

// L2Announcement is a node's Layer 2 announcement of a Service.
type L2Announcement struct {
	// Interfaces the node answers on.
	Interfaces []string `json:"interfaces"`
}

// Node is one node's speaker.
type Node struct {
	Name string `json:"name"`
	// Phase is normal, graceful-shutdown or withdrawn (frr.Phase).
	Phase string `json:"phase,omitempty"`
	// LastApply is the last attempt to configure FRR; nil before any.
	LastApply *Apply `json:"lastApply,omitempty"`
	// Sessions are the node's BGP sessions, sorted by VRF, peer and
	// address.
	Sessions []Session `json:"sessions"`
	// Router is the node router's state; nil when no FRRConfiguration
	// selects the node and it has no FRRNodeState.
	Router *NodeRouter `json:"nodeRouter,omitempty"`
}

// Established counts the node's sessions in state Established.
func (n Node) Established() int {
	c := 0
	for _, s := range n.Sessions {
		if s.State == "Established" {
			c++
		}
	}
	return c
}

// Apply is the outcome of one configuration of FRR.
type Apply struct {
	Time time.Time `json:"time"`
	// AgeSeconds is how long ago it finished, when the report has a time.
	AgeSeconds int64 `json:"ageSeconds,omitempty"`
	// Path is "fast" (a delta through vtysh), "full" (frr-reload.py) or
	// "none" (nothing to change).
	Path      string `json:"path,omitempty"`
	Succeeded bool   `json:"succeeded"`
	// Stage and Message say what failed.
	Stage                string `json:"stage,omitempty"`
	Message              string `json:"message,omitempty"`
	DurationMilliseconds int64  `json:"durationMilliseconds"`
}

// Session is one BGP session of a node.
type Session struct {
	Peer    string `json:"peer"`
	Address string `json:"address,omitempty"`
	VRF     string `json:"vrf,omitempty"`
	State   string `json:"state,omitempty"`
	// Since is when the session was established, when FRR says.
	Since *time.Time `json:"since,omitempty"`
	// UptimeSeconds is how long it has been up, when known.
	UptimeSeconds          int64 `json:"uptimeSeconds,omitempty"`
	EstablishedTransitions int64 `json:"establishedTransitions,omitempty"`
	PrefixesSent           int64 `json:"prefixesSent,omitempty"`
	// PrefixesReceived counts the prefixes received and accepted.
	PrefixesReceived int64  `json:"prefixesReceived,omitempty"`
	BFD              string `json:"bfd,omitempty"`
	LastError        string `json:"lastError,omitempty"`
}

// Pool is one IPAddressPool with its use.
type Pool struct {
	Name          string `json:"name"`
	Mode          Mode   `json:"mode"`
	AssignedIPv4  int64  `json:"assignedIPv4"`
	AvailableIPv4 int64  `json:"availableIPv4"`
	AssignedIPv6  int64  `json:"assignedIPv6"`
	AvailableIPv6 int64  `json:"availableIPv6"`
}

// ConfigState is one component's verdict on the configuration.
type ConfigState struct {
	// Name of the ConfigurationState object: controller, speaker-<node>.
	Name string `json:"name"`
	// Component is "controller" or "speaker".
	Component string `json:"component,omitempty"`
	Node      string `json:"node,omitempty"`
	// Result is Valid, Invalid or Unknown.
	Result string `json:"result"`
}

// ConfigError is one configuration problem.
type ConfigError struct {
	// Error names the object and field, as config.FieldError does.
	Error string `json:"error"`
	// ReportedBy are the ConfigurationState objects that report it, and
	// CurrentObjects when the objects as listed now have it.
	ReportedBy []string `json:"reportedBy"`
}

// CurrentObjects is the reporter of the problems Build itself finds in
// the configuration objects it is given.
const CurrentObjects = "current objects"
