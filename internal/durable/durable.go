// Package durable writes files so that what was written survives a crash
// or a power cut: data fsynced, folders fsynced after a new entry, and
// whole-file replacements that a reader never sees half-done.
package durable

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// FileMode and DirMode are the permissions of every file and folder
// Lettrage creates (reports, journals, archived and quarantined statements,
// sidecars, locks, the state store's folder): owner read-write, group
// read, others nothing — they hold payments and customers' data. The
// process umask may narrow them further.
const (
	FileMode os.FileMode = 0o640
	DirMode  os.FileMode = 0o750
)

// WriteFile creates or replaces the file at p with data and fsyncs it.
func WriteFile(p string, data []byte, perm os.FileMode) error {
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// SyncDir fsyncs a folder so that a new entry in it survives a crash. File
// systems that cannot sync folders are tolerated.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("syncing %q: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) && !errors.Is(err, syscall.ENOTSUP) {
		return fmt.Errorf("syncing %q: %w", dir, err)
	}
	return nil
}

// ReplaceFile writes data to path through a temporary file in the same
// folder, fsync and rename, creating the folder if needed: a reader sees
// the old content or the new, never a mix.
func ReplaceFile(path string, data []byte, perm os.FileMode) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, DirMode); err != nil {
		return fmt.Errorf("creating folder %q: %w", dir, err)
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("writing %q: %w", path, err)
	}
	tmp := f.Name()
	err = f.Chmod(perm)
	if err == nil {
		_, err = f.Write(data)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err == nil {
		err = SyncDir(dir)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing %q: %w", path, err)
	}
	return nil
}
