package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
)

func TestCopyFile(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	if err := os.WriteFile(src, []byte("binary"), 0o600); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(dir, "sub-dst")
	if err := copyFile(src, dst); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(dst)
	if err != nil || !bytes.Equal(got, []byte("binary")) {
		t.Fatalf("copy = %q, %v", got, err)
	}
	st, _ := os.Stat(dst)
	if st.Mode().Perm() != 0o755 {
		t.Errorf("mode %v, want 0755", st.Mode().Perm())
	}
	if err := copyFile(src, filepath.Join(dir, "missing", "dst")); err == nil {
		t.Error("copy into a missing folder succeeded")
	}
	var stderr bytes.Buffer
	if code := dispatch(context.Background(), []string{"copy-binary"}, nil, &stderr, &stderr); code != 2 {
		t.Errorf("copy-binary without DEST exited %d, want 2", code)
	}
}
