// Package local is the statement source that reads CAMT files from a folder
// on the local file system (or a mounted share) and files them away into
// archive and quarantine folders once the pipeline is done with them.
package local

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/lettrage/lettrage/connectors"
	"github.com/lettrage/lettrage/connectors/source/internal/filing"
	"github.com/lettrage/lettrage/internal/durable"
)

// Config is the `local` block of a job's source. Fields tagged
// lettrage:"path" are resolved against the configuration file's folder by
// the config package.
type Config struct {
	// Dir is the folder the statements are delivered to.
	Dir string `yaml:"dir" lettrage:"path"`
	// Pattern is a glob (path/filepath.Match syntax) on the base name of a
	// file; "" lists every regular file.
	Pattern string `yaml:"pattern"`
	// Recursive also lists files in sub-folders of Dir.
	Recursive bool `yaml:"recursive"`
	// ArchiveDir receives the files read successfully, keeping their path
	// relative to Dir; "" leaves them in place.
	ArchiveDir string `yaml:"archive_dir" lettrage:"path"`
	// QuarantineDir receives the files that could not be read, each with a
	// sidecar <name>.error.txt; "" leaves them in place.
	QuarantineDir string `yaml:"quarantine_dir" lettrage:"path"`
}

// Validate checks the configuration. The error joins one error per problem,
// each starting with the YAML key it is about (`dir: required`).
func (c *Config) Validate() error {
	var errs []error
	if strings.TrimSpace(c.Dir) == "" {
		errs = append(errs, errors.New("dir: required"))
	}
	if c.Pattern != "" {
		if _, err := filepath.Match(c.Pattern, ""); err != nil {
			errs = append(errs, fmt.Errorf("pattern: invalid glob %q: %w", c.Pattern, err))
		}
		if strings.ContainsRune(c.Pattern, '/') {
			errs = append(errs, fmt.Errorf("pattern: %q must match a base name, without '/'", c.Pattern))
		}
	}
	if c.Dir != "" {
		if c.ArchiveDir != "" && samePath(c.ArchiveDir, c.Dir) {
			errs = append(errs, errors.New("archive_dir: must differ from dir"))
		}
		if c.QuarantineDir != "" && samePath(c.QuarantineDir, c.Dir) {
			errs = append(errs, errors.New("quarantine_dir: must differ from dir"))
		}
	}
	return errors.Join(errs...)
}

func samePath(a, b string) bool {
	aa, err1 := filepath.Abs(a)
	bb, err2 := filepath.Abs(b)
	if err1 != nil || err2 != nil {
		return filepath.Clean(a) == filepath.Clean(b)
	}
	return aa == bb
}

// Source is a StatementSource over a local folder. It is safe for use by
// one pipeline pass at a time.
type Source struct {
	name       string
	dir        string // absolute
	pattern    string
	recursive  bool
	archive    string // absolute, "" = none
	quarantine string // absolute, "" = none
	now        func() time.Time
}

var _ connectors.StatementSource = (*Source)(nil)

// New validates cfg and returns the source; name is the source's
// configured name, copied into every StatementRef. Relative paths are
// taken relative to the working directory (the config package resolves
// them against the configuration file first).
func New(name string, cfg Config) (*Source, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("configuring local source %q: %w", name, err)
	}
	s := &Source{name: name, pattern: cfg.Pattern, recursive: cfg.Recursive, now: time.Now}
	var err error
	if s.dir, err = filepath.Abs(cfg.Dir); err != nil {
		return nil, fmt.Errorf("configuring local source %q: dir: %w", name, err)
	}
	if cfg.ArchiveDir != "" {
		if s.archive, err = filepath.Abs(cfg.ArchiveDir); err != nil {
			return nil, fmt.Errorf("configuring local source %q: archive_dir: %w", name, err)
		}
	}
	if cfg.QuarantineDir != "" {
		if s.quarantine, err = filepath.Abs(cfg.QuarantineDir); err != nil {
			return nil, fmt.Errorf("configuring local source %q: quarantine_dir: %w", name, err)
		}
	}
	return s, nil
}

// List returns the regular files of the folder that match the pattern,
// sorted by path. It skips hidden files and folders, quarantine sidecars,
// the archive and quarantine folders when they lie inside the folder, and
// symbolic links that lead out of it (links to folders are not followed).
func (s *Source) List(ctx context.Context) ([]connectors.StatementRef, error) {
	root, err := filepath.EvalSymlinks(s.dir)
	if err != nil {
		return nil, fmt.Errorf("listing %q: %w", s.dir, err)
	}
	archive, quarantine := resolve(s.archive), resolve(s.quarantine)
	var refs []connectors.StatementRef
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if ctxErr := ctx.Err(); ctxErr != nil {
			return ctxErr
		}
		if p == root {
			return nil
		}
		name := d.Name()
		if d.IsDir() {
			if !s.recursive || strings.HasPrefix(name, ".") || p == archive || p == quarantine {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasPrefix(name, ".") || strings.HasSuffix(name, filing.SidecarSuffix) {
			return nil
		}
		if s.pattern != "" {
			if ok, _ := filepath.Match(s.pattern, name); !ok {
				return nil
			}
		}
		var info fs.FileInfo
		switch {
		case d.Type().IsRegular():
			if info, err = d.Info(); err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					return nil // vanished while listing
				}
				return err
			}
		case d.Type()&fs.ModeSymlink != 0:
			info = s.followLink(root, p)
			if info == nil {
				return nil
			}
		default:
			return nil // devices, sockets, pipes
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		refs = append(refs, connectors.StatementRef{
			Source: s.name, Path: filepath.ToSlash(rel), Size: info.Size(), ModTime: info.ModTime(),
		})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing %q: %w", s.dir, err)
	}
	sort.Slice(refs, func(i, j int) bool { return refs[i].Path < refs[j].Path })
	return refs, nil
}

// resolve returns p with symbolic links resolved when it exists, else p.
func resolve(p string) string {
	if p == "" {
		return ""
	}
	if r, err := filepath.EvalSymlinks(p); err == nil {
		return r
	}
	return p
}

// followLink returns the target's info when the symbolic link p resolves to
// a regular file inside root, else nil.
func (s *Source) followLink(root, p string) fs.FileInfo {
	target, err := filepath.EvalSymlinks(p)
	if err != nil || !within(root, target) {
		return nil
	}
	info, err := os.Stat(target)
	if err != nil || !info.Mode().IsRegular() {
		return nil
	}
	return info
}

// within reports whether p is root or lies below it (both cleaned).
func within(root, p string) bool {
	rel, err := filepath.Rel(root, p)
	return err == nil && filepath.IsLocal(rel)
}

// path maps a reference to its absolute file path, refusing references
// that would escape the folder.
func (s *Source) path(ref connectors.StatementRef) (string, error) {
	rel := filepath.FromSlash(ref.Path)
	if !filepath.IsLocal(rel) {
		return "", fmt.Errorf("statement path %q is not inside the source folder", ref.Path)
	}
	return filepath.Join(s.dir, rel), nil
}

// Open opens the file for reading. A file that vanished since List gives an
// error wrapping connectors.ErrNotFound.
func (s *Source) Open(ctx context.Context, ref connectors.StatementRef) (io.ReadCloser, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("opening %q: %w", ref.Path, err)
	}
	p, err := s.path(ref)
	if err != nil {
		return nil, fmt.Errorf("opening %q: %w", ref.Path, err)
	}
	if err := s.checkLink(p); err != nil {
		return nil, fmt.Errorf("opening %q: %w", ref.Path, err)
	}
	f, err := os.Open(p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("opening %q: %w: %w", ref.Path, connectors.ErrNotFound, err)
		}
		return nil, fmt.Errorf("opening %q: %w", ref.Path, err)
	}
	return f, nil
}

// checkLink refuses a path that resolves outside the folder (a link swapped
// in after List). A missing file is left for the caller to report.
func (s *Source) checkLink(p string) error {
	root, err := filepath.EvalSymlinks(s.dir)
	if err != nil {
		return err
	}
	target, err := filepath.EvalSymlinks(p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return err
	}
	if !within(root, target) {
		return errors.New("symbolic link leads out of the source folder")
	}
	return nil
}

// Archive moves the file into the archive folder under the same relative
// path; a name already taken there gets a numeric suffix (name.1.xml), so
// nothing is ever overwritten. Without an archive folder it does nothing.
func (s *Source) Archive(ctx context.Context, ref connectors.StatementRef) error {
	if s.archive == "" {
		return nil
	}
	if _, err := s.move(ctx, ref, s.archive); err != nil {
		return fmt.Errorf("archiving %q: %w", ref.Path, err)
	}
	return nil
}

// Quarantine moves the file into the quarantine folder like Archive does and
// writes next to it a sidecar <name>.error.txt holding the cause and the
// time. Without a quarantine folder it leaves the file in place and writes
// nothing: the pipeline's log and state store keep the cause.
func (s *Source) Quarantine(ctx context.Context, ref connectors.StatementRef, cause error) error {
	if s.quarantine == "" {
		return nil
	}
	dst, err := s.move(ctx, ref, s.quarantine)
	if err != nil {
		return fmt.Errorf("quarantining %q: %w", ref.Path, err)
	}
	body := filing.Sidecar(ref.Path, s.name, s.now(), cause)
	if err := durable.WriteFile(dst+filing.SidecarSuffix, body, durable.FileMode); err != nil {
		return fmt.Errorf("quarantining %q: writing the error sidecar: %w", ref.Path, err)
	}
	return nil
}

// link is the hard-link call move uses; tests replace it to exercise the
// cross-device fallback.
var link = os.Link

// move moves the referenced file into destRoot under its relative path and
// returns the destination path. It never overwrites: it hard-links the file
// under the first free name (link fails on an existing name) and removes the
// original; where hard links are impossible (another file system) it copies
// into an exclusively created file, fsyncs it and removes the original.
func (s *Source) move(ctx context.Context, ref connectors.StatementRef, destRoot string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	src, err := s.path(ref)
	if err != nil {
		return "", err
	}
	if _, err := os.Lstat(src); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("%w: %w", connectors.ErrNotFound, err)
		}
		return "", err
	}
	rel := filepath.FromSlash(ref.Path)
	destDir := filepath.Join(destRoot, filepath.Dir(rel))
	if err := os.MkdirAll(destDir, durable.DirMode); err != nil {
		return "", fmt.Errorf("creating %q: %w", destDir, err)
	}
	base := filepath.Base(rel)
	copyMode := false
	for i := 0; i < filing.MaxSuffix; i++ {
		dst := filepath.Join(destDir, filing.Suffixed(base, i))
		if !copyMode {
			err := link(src, dst)
			switch {
			case err == nil:
				narrow(dst)
				if err := os.Remove(src); err != nil {
					return "", fmt.Errorf("removing %q after linking it to %q: %w", src, dst, err)
				}
				return dst, durable.SyncDir(destDir)
			case errors.Is(err, fs.ErrExist):
				continue
			case errors.Is(err, fs.ErrNotExist):
				return "", fmt.Errorf("%w: %w", connectors.ErrNotFound, err)
			default:
				// EXDEV (another file system), EPERM (no hard links): copy.
				copyMode = true
			}
		}
		ok, err := copyExclusive(src, dst)
		if err != nil {
			return "", err
		}
		if !ok {
			continue
		}
		if err := durable.SyncDir(destDir); err != nil {
			return "", err
		}
		if err := os.Remove(src); err != nil {
			return "", fmt.Errorf("removing %q after copying it to %q: %w", src, dst, err)
		}
		return dst, nil
	}
	return "", fmt.Errorf("no free name for %q in %q after %d tries", base, destDir, filing.MaxSuffix)
}

// narrow takes from a statement moved by a hard link (which keeps its
// mode) what durable.FileMode does not give — no access for other users,
// as a copy would have. Best effort: the file may belong to another user.
func narrow(path string) {
	if st, err := os.Stat(path); err == nil && st.Mode().Perm()&^durable.FileMode != 0 {
		_ = os.Chmod(path, st.Mode().Perm()&durable.FileMode)
	}
}

// copyExclusive copies src into a new file dst, failing (false, nil) when
// dst exists; the copy is fsynced before it returns. A partial copy is
// removed.
func copyExclusive(src, dst string) (bool, error) {
	in, err := os.Open(src)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return false, fmt.Errorf("%w: %w", connectors.ErrNotFound, err)
		}
		return false, err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, durable.FileMode)
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			return false, nil
		}
		return false, fmt.Errorf("creating %q: %w", dst, err)
	}
	_, err = io.Copy(out, in)
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(dst)
		return false, fmt.Errorf("copying %q to %q: %w", src, dst, err)
	}
	return true, nil
}
