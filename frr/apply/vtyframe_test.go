package apply

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
)

// frameReply writes a reply as a daemon does.
func frameReply(text string, status byte) []byte {
	return append([]byte(text), 0, 0, 0, status)
}

// reply is what readReply returned, for comparison.
type reply struct {
	Text   string
	Status byte
}

func TestReadReply(t *testing.T) {
	long := strings.Repeat("network 2001:db8::1/128\n", 2000) // > the reader's buffer
	for _, tc := range []struct {
		name    string
		input   []byte
		want    []reply
		wantErr error // of the read after the replies in want
	}{
		{
			name:    "empty success",
			input:   frameReply("", 0),
			want:    []reply{{"", 0}},
			wantErr: io.EOF,
		},
		{
			name:    "message and status",
			input:   frameReply("% [BGP] Unknown command: frobnicate\n", 2),
			want:    []reply{{"% [BGP] Unknown command: frobnicate\n", 2}},
			wantErr: io.EOF,
		},
		{
			name:    "two replies back to back",
			input:   append(frameReply("a\n", 0), frameReply("b\n", 13)...),
			want:    []reply{{"a\n", 0}, {"b\n", 13}},
			wantErr: io.EOF,
		},
		{
			name:    "text longer than the buffer",
			input:   frameReply(long, 0),
			want:    []reply{{long, 0}},
			wantErr: io.EOF,
		},
		{
			name:    "cut in the text",
			input:   []byte("frr version"),
			wantErr: io.ErrUnexpectedEOF,
		},
		{
			name:    "cut in the terminator",
			input:   []byte("x\x00\x00"),
			wantErr: io.ErrUnexpectedEOF,
		},
		{
			name:    "NUL inside the text",
			input:   []byte("a\x00b\x00\x00\x00\x00"),
			wantErr: errFrame,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// One byte per read, so every cut between reads is tried.
			r := bufio.NewReaderSize(iotest.OneByteReader(bytes.NewReader(tc.input)), 16)
			var got []reply
			var err error
			for {
				var text []byte
				var status byte
				text, status, err = readReply(r)
				if err != nil {
					break
				}
				got = append(got, reply{string(text), status})
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("replies (-want +got):\n%s", diff)
			}
			if !errors.Is(err, tc.wantErr) {
				t.Errorf("last error = %v, want %v", err, tc.wantErr)
			}
		})
	}
}

func TestWriteCommand(t *testing.T) {
	var b bytes.Buffer
	if err := writeCommand(&b, "show running-config"); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff("show running-config\x00", b.String()); diff != "" {
		t.Errorf("frame (-want +got):\n%s", diff)
	}
}

// FuzzReadReply feeds readReply arbitrary daemon output: it must not
// panic, and every reply it accepts must be exactly the bytes it
// consumed, framed again.
func FuzzReadReply(f *testing.F) {
	f.Add(frameReply("", 0))
	f.Add(frameReply("% Command incomplete.\n", 4))
	f.Add(append(frameReply("a", 0), frameReply("b", 1)...))
	f.Add([]byte("a\x00b\x00\x00\x00\x00"))
	f.Add([]byte("\x00\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		src := bytes.NewReader(data)
		r := bufio.NewReaderSize(src, 16)
		consumed := 0
		for {
			text, status, err := readReply(r)
			if err != nil {
				return
			}
			if bytes.IndexByte(text, 0) >= 0 {
				t.Fatalf("reply text %q holds a NUL byte", text)
			}
			frame := frameReply(string(text), status)
			if end := consumed + len(frame); end > len(data) || !bytes.Equal(data[consumed:end], frame) {
				t.Fatalf("reply %q/%d does not frame the input at %d: %q", text, status, consumed, data[consumed:])
			}
			consumed += len(frame)
			if left := src.Len() + r.Buffered(); consumed+left != len(data) {
				t.Fatalf("consumed %d and %d left of %d bytes", consumed, left, len(data))
			}
		}
	})
}
