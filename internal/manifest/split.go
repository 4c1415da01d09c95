package manifest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// docReader cuts a stream into YAML documents at the lines that start
// with "---", as kubectl does (k8s.io/apimachinery's YAMLReader): a line
// break is "\n" or "\r\n" and becomes "\n"; a separator may only be
// followed by spaces or a comment; it ends the document before it, or,
// when there is none, is the first line of the next one. It reuses one
// buffer, where YAMLReader allocates one per line.
type docReader struct {
	r    *bufio.Reader
	line []byte
	doc  []byte
}

func newDocReader(r io.Reader) *docReader {
	return &docReader{r: bufio.NewReaderSize(r, 64<<10)}
}

// next returns the next document, valid until the next call, or io.EOF
// after the last one.
func (d *docReader) next() ([]byte, error) {
	d.doc = d.doc[:0]
	for {
		ok, err := d.readLine()
		if err != nil {
			return nil, err
		}
		if !ok {
			if len(d.doc) > 0 {
				return d.doc, nil
			}
			return nil, io.EOF
		}
		if bytes.HasPrefix(d.line, []byte("---")) {
			if rest := bytes.TrimSpace(d.line[3:]); len(rest) > 0 && rest[0] != '#' {
				return nil, fmt.Errorf("invalid Yaml document separator: %s", rest)
			}
			if len(d.doc) > 0 {
				return d.doc, nil
			}
			// A separator with nothing before it starts the document.
		}
		d.doc = append(append(d.doc, d.line...), '\n')
	}
}

// readLine reads the next line into d.line, without its line break; it
// reports false at the end of the input.
func (d *docReader) readLine() (bool, error) {
	d.line = d.line[:0]
	for {
		chunk, err := d.r.ReadSlice('\n')
		d.line = append(d.line, chunk...)
		switch {
		case err == nil:
			d.line = bytes.TrimSuffix(d.line[:len(d.line)-1], []byte("\r"))
			return true, nil
		case errors.Is(err, bufio.ErrBufferFull):
		case errors.Is(err, io.EOF):
			return len(d.line) > 0, nil
		default:
			return false, err
		}
	}
}
