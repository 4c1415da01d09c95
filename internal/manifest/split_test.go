package manifest

import (
	"bufio"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

// splitBoth cuts input into documents with docReader (a 16-byte buffer,
// so lines span reads) and with apimachinery's YAMLReader, each up to
// its first error.
func splitBoth(input string) (got, want []string, gotErr, wantErr string) {
	d := &docReader{r: bufio.NewReaderSize(strings.NewReader(input), 16)}
	for {
		doc, err := d.next()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				gotErr = err.Error()
			}
			break
		}
		got = append(got, string(doc))
	}
	y := utilyaml.NewYAMLReader(bufio.NewReader(strings.NewReader(input)))
	for {
		doc, err := y.Read()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				wantErr = err.Error()
			}
			break
		}
		want = append(want, string(doc))
	}
	return got, want, gotErr, wantErr
}

func TestDocReader(t *testing.T) {
	tests := []struct {
		name    string
		input   string
		want    []string
		wantErr string
	}{
		{name: "empty", input: ""},
		{name: "one document without a final line break", input: "a: 1", want: []string{"a: 1\n"}},
		{name: "separators and comments", input: "---\na: 1\n--- # two\n\nb: 2\n---\n---\n", want: []string{"---\na: 1\n", "\nb: 2\n", "---\n"}},
		{name: "carriage returns", input: "a: 1\r\n---\r\nb: 2\r\r\n", want: []string{"a: 1\n", "b: 2\r\n"}},
		{name: "long line", input: "a: " + strings.Repeat("x", 100) + "\r\n", want: []string{"a: " + strings.Repeat("x", 100) + "\n"}},
		{name: "a line that starts like a separator", input: "a: 1\n----\n", wantErr: "invalid Yaml document separator: -"},
		{name: "text after a separator", input: "--- a: 1\n", wantErr: "invalid Yaml document separator: a: 1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, want, gotErr, wantErr := splitBoth(tc.input)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("documents (-want +got):\n%s", diff)
			}
			if gotErr != tc.wantErr {
				t.Errorf("error = %q, want %q", gotErr, tc.wantErr)
			}
			// And as apimachinery's reader cuts it.
			if diff := cmp.Diff(want, got); diff != "" || gotErr != wantErr {
				t.Errorf("differs from YAMLReader (-YAMLReader +docReader):\n%s\nerrors %q, %q", diff, wantErr, gotErr)
			}
		})
	}
}

// FuzzDocReader checks that docReader cuts every input as YAMLReader does.
func FuzzDocReader(f *testing.F) {
	f.Add("---\na: 1\n--- # two\n\nb: 2\n---\n---\n")
	f.Add("a: 1\r\n---\r\nb: 2\r\r\n")
	f.Add("a: " + strings.Repeat("x", 30) + "\r\n---x\n")
	f.Fuzz(func(t *testing.T, input string) {
		got, want, gotErr, wantErr := splitBoth(input)
		if diff := cmp.Diff(want, got); diff != "" || gotErr != wantErr {
			t.Errorf("differs from YAMLReader (-YAMLReader +docReader):\n%s\nerrors %q, %q", diff, wantErr, gotErr)
		}
	})
}
