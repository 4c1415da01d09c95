package apply

import (
	"bufio"
	"errors"
	"fmt"
	"io"
)

// The framing of an FRR daemon's vty socket (the one vtysh uses, not the
// telnet port), as lib/vty.c and vtysh/vtysh.c of FRR 8.4 speak it: the
// client writes one command followed by a NUL byte and waits; the daemon
// answers with the command's output, three NUL bytes and one status byte
// (lib/command.h's CMD_* value). A connection starts in the view node;
// `enable` moves it to the enable node without a password.

// maxReply bounds one reply's text. bgpd prints about 30 bytes per
// network, so this holds a running config of a million networks.
const maxReply = 64 << 20

// errFrame reports a reply that breaks the framing; the connection that
// carried it can not be used any more.
var errFrame = errors.New("malformed vty reply")

// writeCommand sends cmd as one framed command.
func writeCommand(w io.Writer, cmd string) error {
	buf := make([]byte, 0, len(cmd)+1)
	buf = append(buf, cmd...)
	buf = append(buf, 0)
	_, err := w.Write(buf)
	return err
}

// readReply reads one reply and returns its text (without the
// terminator) and status. An end of input inside a reply is
// io.ErrUnexpectedEOF; one before the reply's first byte is io.EOF.
func readReply(r *bufio.Reader) (text []byte, status byte, err error) {
	for {
		chunk, err := r.ReadSlice(0)
		text = append(text, chunk...)
		if len(text) > maxReply+1 {
			return nil, 0, fmt.Errorf("%w: text longer than %d bytes", errFrame, maxReply)
		}
		if err == nil {
			break
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if errors.Is(err, io.EOF) && len(text) > 0 {
			err = io.ErrUnexpectedEOF
		}
		return nil, 0, err
	}
	text = text[:len(text)-1]
	var tail [3]byte
	if _, err := io.ReadFull(r, tail[:]); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, 0, err
	}
	if tail[0] != 0 || tail[1] != 0 {
		return nil, 0, fmt.Errorf("%w: text holds a NUL byte not followed by the terminator", errFrame)
	}
	return text, tail[2], nil
}

// Status values of lib/command.h that a daemon answers with.
const (
	cmdSuccess       = 0
	cmdWarning       = 1
	cmdNoMatch       = 2
	cmdAmbiguous     = 3
	cmdIncomplete    = 4
	cmdConfigFailed  = 13
	cmdNotMyInstance = 14
	cmdNoLevelUp     = 15
)

// statusText names a reply's status for error messages.
func statusText(s byte) string {
	switch s {
	case cmdSuccess:
		return "success"
	case cmdWarning:
		return "warning"
	case cmdNoMatch:
		return "unknown command"
	case cmdAmbiguous:
		return "ambiguous command"
	case cmdIncomplete:
		return "incomplete command"
	case cmdConfigFailed:
		return "config failed"
	case cmdNotMyInstance:
		return "not my instance"
	case cmdNoLevelUp:
		return "no level up"
	}
	return fmt.Sprintf("status %d", s)
}
