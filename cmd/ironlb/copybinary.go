package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// runCopyBinary copies this executable to DEST: the speaker pod's init
// container uses it to put ironlb into the volume it shares with the FRR
// container, whose image has no ironlb (and ironlb's image has no cp).
func runCopyBinary(_ context.Context, args []string, _ io.Reader, _, _ io.Writer) error {
	if len(args) != 1 || args[0] == "" || args[0] == "-h" || args[0] == "--help" {
		return &exitError{code: 2, err: errors.New("usage: ironlb copy-binary DEST")}
	}
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("finding this executable: %w", err)
	}
	return copyFile(self, args[0])
}

// copyFile writes src to dst through a temporary file in dst's folder and
// a rename, so a reader never sees a half-written binary.
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("copying binary: %w", err)
	}
	defer in.Close()
	tmp, err := os.CreateTemp(filepath.Dir(dst), ".ironlb-*")
	if err != nil {
		return fmt.Errorf("copying binary: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := io.Copy(tmp, in); err != nil {
		tmp.Close()
		return fmt.Errorf("copying binary to %s: %w", dst, err)
	}
	if err := tmp.Chmod(0o755); err != nil {
		tmp.Close()
		return fmt.Errorf("copying binary: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("copying binary: %w", err)
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return fmt.Errorf("copying binary to %s: %w", dst, err)
	}
	return nil
}
