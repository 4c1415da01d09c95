package agent

import (
	"fmt"
	"log/slog"
	"net"

	"golang.org/x/sys/unix"
)

// peerCred is the process at the other end of a unix socket
// connection, as the kernel recorded it when that process connected
// (SO_PEERCRED).
type peerCred struct {
	PID int32
	UID uint32
	GID uint32
}

// checkPeer says whether a connection from p is let through when only
// uid may talk to the agent.
func checkPeer(p peerCred, uid uint32) error {
	if p.UID != uid {
		return fmt.Errorf("peer uid %d is not the expected uid %d", p.UID, uid)
	}
	return nil
}

// peerOf reads the credentials of the process that connected c.
func peerOf(c net.Conn) (peerCred, error) {
	uc, ok := c.(*net.UnixConn)
	if !ok {
		return peerCred{}, fmt.Errorf("reading peer credentials: %T is not a unix connection", c)
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		return peerCred{}, fmt.Errorf("reading peer credentials: %w", err)
	}
	var (
		cred   *unix.Ucred
		optErr error
	)
	if err := raw.Control(func(fd uintptr) {
		cred, optErr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	}); err != nil {
		return peerCred{}, fmt.Errorf("reading peer credentials: %w", err)
	}
	if optErr != nil {
		return peerCred{}, fmt.Errorf("reading peer credentials: %w", optErr)
	}
	return peerCred{PID: cred.Pid, UID: cred.Uid, GID: cred.Gid}, nil
}

// peerListener hands out only the connections of processes running as
// uid; any other is logged and closed before a byte of it is read.
type peerListener struct {
	net.Listener
	uid uint32
	log *slog.Logger
}

// Accept returns the next connection from the expected user.
func (l *peerListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		p, err := peerOf(c)
		if err != nil {
			c.Close()
			l.log.Warn("frr agent refused a connection", "wantUID", l.uid, "reason", err.Error())
			continue
		}
		if err := checkPeer(p, l.uid); err != nil {
			c.Close()
			l.log.Warn("frr agent refused a connection", "peerUID", p.UID, "peerPID", p.PID, "peerGID", p.GID, "wantUID", l.uid, "reason", err.Error())
			continue
		}
		return c, nil
	}
}
