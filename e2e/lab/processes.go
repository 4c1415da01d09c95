package lab

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Tiers of the lab's processes: Up starts them in this order, Teardown
// stops them the other way round.
const (
	tierEtcd      = 0
	tierAPIServer = 1
	tierWorkloads = 2
)

// MetalLBNamespace is where ironlb's objects live.
const MetalLBNamespace = "metallb-system"

func cpAddr(port int) string { return net.JoinHostPort(ControlPlaneIPv4, strconv.Itoa(port)) }

// controlPlane lists etcd and kube-apiserver.
func (l *Lab) controlPlane() []procSpec {
	c := l.cfg
	pki := func(f string) string { return c.path(pkiDir, f) }
	etcdURL := func(port int) string { return "http://" + cpAddr(port) }
	return []procSpec{{
		name:  "etcd",
		netns: ControlPlaneNetns,
		tier:  tierEtcd,
		argv: []string{c.KubeBinDir + "/etcd",
			"--name=lab",
			"--data-dir=" + c.path(etcdDir),
			"--listen-client-urls=" + etcdURL(EtcdClientPort),
			"--advertise-client-urls=" + etcdURL(EtcdClientPort),
			"--listen-peer-urls=" + etcdURL(EtcdPeerPort),
			"--initial-advertise-peer-urls=" + etcdURL(EtcdPeerPort),
			"--initial-cluster=lab=" + etcdURL(EtcdPeerPort),
			"--unsafe-no-fsync",
			"--log-level=warn",
		},
		ready: func(ctx context.Context) error {
			return httpOK(ctx, ControlPlaneNetns, etcdURL(EtcdClientPort)+"/health", "true")
		},
	}, {
		name:  "kube-apiserver",
		netns: ControlPlaneNetns,
		tier:  tierAPIServer,
		argv: append([]string{c.KubeBinDir + "/kube-apiserver",
			"--etcd-servers=" + etcdURL(EtcdClientPort),
			"--bind-address=" + ControlPlaneIPv4,
			"--advertise-address=" + ControlPlaneIPv4,
			"--secure-port=" + strconv.Itoa(APIServerPort),
			"--tls-cert-file=" + pki(servingCert),
			"--tls-private-key-file=" + pki(servingKey),
			"--client-ca-file=" + pki(caCertFile),
			"--service-account-issuer=https://" + cpAddr(APIServerPort),
			"--service-account-key-file=" + pki(saVerifyingKey),
			"--service-account-signing-key-file=" + pki(saSigningKey),
			"--service-cluster-ip-range=" + ServiceCIDRs,
			"--authorization-mode=RBAC",
			"--allow-privileged=true",
			"--enable-priority-and-fairness=false",
			"--profiling=false",
		}, l.apiServerModeFlags()...),
		ready: l.apiServerReady,
	}, {
		// The root namespace's way in: Up made the listener and hands it
		// over as fd 3.
		name:       "forward",
		tier:       tierAPIServer,
		argv:       []string{c.Binary, "lab", "forward", "--fd=3", "--netns=" + ControlPlaneNetns, "--to=" + cpAddr(APIServerPort)},
		extraFiles: []*os.File{l.localListener},
		ready:      l.localAPIReady,
	}}
}

// workloads lists what runs once the API server holds the lab's objects:
// the controller and the router in the root namespace, then every node's
// processes.
func (l *Lab) workloads() []procSpec {
	c := l.cfg
	ps := []procSpec{{
		name:  "controller",
		netns: ControlPlaneNetns,
		tier:  tierWorkloads,
		argv: []string{c.Binary, "controller",
			"--kubeconfig=" + l.KubeconfigPath(),
			"--namespace=" + MetalLBNamespace,
			"--webhook-port=0",
			"--metrics-addr=" + cpAddr(ControllerMetricsPort),
			"--health-addr=" + cpAddr(ControllerHealthPort),
			"--pprof-addr=" + cpAddr(ControllerPprofPort),
		},
		ready: func(ctx context.Context) error {
			return httpOK(ctx, ControlPlaneNetns, "http://"+cpAddr(ControllerHealthPort)+"/readyz", "ok")
		},
	}, l.frrProcess(RouterNetns, []string{"zebra", "bgpd", "bfdd"}, c.path(frrDir, RouterNetns+".conf"), l.routerReady)}
	for _, n := range Nodes() {
		ps = append(ps, l.nodeProcesses(n)...)
	}
	if c.DebugLogs {
		for i := range ps {
			if cmd := ps[i].argv[1]; cmd == "controller" || cmd == "frr-agent" || cmd == "speaker" {
				ps[i].argv = append(ps[i].argv, "--log-level=debug")
			}
		}
	}
	return ps
}

// nodeProcesses lists what runs in a node's namespace. This is the one
// place to add or change a per-node component.
func (l *Lab) nodeProcesses(n Node) []procSpec {
	c := l.cfg
	ps := []procSpec{{
		name:  n.Name + "-kube-proxy",
		netns: n.Name,
		tier:  tierWorkloads,
		argv: []string{c.Binary, "lab", "kube-proxy",
			"--node=" + n.Name,
			"--kubeconfig=" + l.KubeconfigPath(),
		},
		ready: func(ctx context.Context) error {
			return l.httpFromLANClient(ctx, "http://"+net.JoinHostPort(n.IPv4.String(), strconv.Itoa(ServicePort))+"/", n.Name)
		},
	}}
	if !c.Speakers {
		return ps
	}
	// FRR in the node's namespace (pathspace = node name, no config: the
	// speaker renders it; a daemon that dies is started again, as
	// watchfrr does), the agent that reloads it, and the speaker.
	agentSocket := c.path(sockDir, n.Name+"-frr-agent.sock")
	ps = append(ps,
		l.frrProcess(n.Name, []string{"zebra", "bgpd", "bfdd", "staticd"}, "", nil, "--respawn"),
		procSpec{
			name:  n.Name + "-frr-agent",
			netns: n.Name,
			tier:  tierWorkloads,
			argv: []string{c.Binary, "frr-agent", "--socket=" + agentSocket, "--pathspace=" + n.Name,
				// Only inside the node's namespace: for profiling benchmarks.
				"--pprof-addr=127.0.0.1:7478"},
		},
		procSpec{
			name:  n.Name + "-speaker",
			netns: n.Name,
			tier:  tierWorkloads,
			argv: append([]string{c.Binary, "speaker",
				"--node-name=" + n.Name,
				"--kubeconfig=" + l.KubeconfigPath(),
				"--namespace=" + MetalLBNamespace,
				"--frr-agent-socket=" + agentSocket,
				"--router-id=" + n.IPv4.String(),
				"--drain-delay=3s",
				"--session-interval=2s",
				// Ready at once, as the lab starts speakers before some
				// tests' peers exist; the real nodes' chart keeps the wait
				// for the sessions (speaker.DefaultReadyWait).
				"--ready-wait=0",
				"--memberlist-secret=" + MemberlistSecret,
				// Only inside the node's namespace: for profiling benchmarks.
				"--pprof-addr=127.0.0.1:7476",
			}, c.SpeakerArgs...),
			ready: func(ctx context.Context) error {
				return httpOK(ctx, n.Name, "http://127.0.0.1:7475/readyz", "ok")
			},
		},
	)
	return ps
}

// MemberlistSecret is the Secret, in MetalLBNamespace, whose "secretkey"
// encrypts the speakers' memberlist; Up makes it with a random key.
const MemberlistSecret = "memberlist"

// createMemberlistSecret makes the speakers' memberlist Secret.
func (l *Lab) createMemberlistSecret(ctx context.Context) error {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return fmt.Errorf("making the memberlist key: %w", err)
	}
	sec := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: MetalLBNamespace, Name: MemberlistSecret},
		Data:       map[string][]byte{"secretkey": []byte(hex.EncodeToString(key))},
	}
	if err := l.kube.Create(ctx, sec); err != nil {
		return fmt.Errorf("creating Secret %s/%s: %w", MetalLBNamespace, MemberlistSecret, err)
	}
	return nil
}

// frrProcess runs `ironlb lab frr`, which keeps a private FRR (pathspace
// = netns name) running in netns until it is told to stop. The
// supervisor itself runs in the root namespace.
func (l *Lab) frrProcess(netns string, daemons []string, config string, ready func(context.Context) error, flags ...string) procSpec {
	argv := append([]string{l.cfg.Binary, "lab", "frr",
		"--netns=" + netns,
		"--dir=" + l.cfg.path(frrDir, netns),
		"--daemons=" + strings.Join(daemons, ","),
	}, flags...)
	if config != "" {
		argv = append(argv, "--config="+config)
	}
	if ready == nil {
		ready = func(ctx context.Context) error {
			_, err := vtysh(ctx, netns, "show version")
			return err
		}
	}
	return procSpec{name: netns + "-frr", tier: tierWorkloads, argv: argv, ready: ready}
}

// routerReady returns nil once the router's FRR has its configuration.
func (l *Lab) routerReady(ctx context.Context) error {
	out, err := vtysh(ctx, RouterNetns, "show running-config")
	if err != nil {
		return err
	}
	if want := fmt.Sprintf("router bgp %d", RouterAS); !strings.Contains(string(out), want) {
		return fmt.Errorf("router frr: running config lacks %q", want)
	}
	return nil
}
