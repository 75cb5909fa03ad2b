package local

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lettrage/lettrage/connectors"
)

func write(t *testing.T, p, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func read(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func paths(refs []connectors.StatementRef) []string {
	out := []string{}
	for _, r := range refs {
		out = append(out, r.Path)
	}
	return out
}

func TestValidate(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name        string
		cfg         Config
		errContains string
	}{
		{"ok", Config{Dir: dir, Pattern: "*.xml", ArchiveDir: filepath.Join(dir, "a")}, ""},
		{"ok no pattern", Config{Dir: dir}, ""},
		{"no dir", Config{}, "dir: required"},
		{"blank dir", Config{Dir: "  "}, "dir: required"},
		{"bad glob", Config{Dir: dir, Pattern: "[x"}, `pattern: invalid glob "[x"`},
		{"slash in glob", Config{Dir: dir, Pattern: "a/*.xml"}, "pattern: \"a/*.xml\" must match a base name"},
		{"archive is dir", Config{Dir: dir, ArchiveDir: dir + "/."}, "archive_dir: must differ from dir"},
		{"quarantine is dir", Config{Dir: dir, QuarantineDir: dir}, "quarantine_dir: must differ from dir"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if tt.errContains == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.errContains) {
				t.Fatalf("Validate() = %v, want it to contain %q", err, tt.errContains)
			}
			if _, err := New("s", tt.cfg); err == nil {
				t.Fatal("New accepted an invalid config")
			}
		})
	}
}

func TestValidateCollectsAll(t *testing.T) {
	err := (&Config{Pattern: "[", QuarantineDir: "q"}).Validate()
	var joined interface{ Unwrap() []error }
	if !errors.As(err, &joined) || len(joined.Unwrap()) != 2 {
		t.Fatalf("Validate() = %v, want two joined problems", err)
	}
}

func TestList(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "in")
	outside := filepath.Join(root, "outside.xml")
	write(t, outside, "secret")
	for _, p := range []string{"b.xml", "a.xml", "c.txt", ".hidden.xml", "x.xml.error.txt",
		"sub/d.xml", "sub/deeper/e.xml", ".git/f.xml", "archive/old.xml", "quarantine/bad.xml"} {
		write(t, filepath.Join(dir, p), p)
	}
	if err := os.Symlink(outside, filepath.Join(dir, "escape.xml")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dir, "a.xml"), filepath.Join(dir, "inside.xml")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(root, filepath.Join(dir, "loop")); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo.xml"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		cfg  Config
		want []string
	}{
		{"flat pattern", Config{Dir: dir, Pattern: "*.xml"}, []string{"a.xml", "b.xml", "inside.xml"}},
		{"flat all", Config{Dir: dir}, []string{"a.xml", "b.xml", "c.txt", "inside.xml"}},
		{"recursive skips archive and quarantine", Config{Dir: dir, Pattern: "*.xml", Recursive: true,
			ArchiveDir: filepath.Join(dir, "archive"), QuarantineDir: filepath.Join(dir, "quarantine")},
			[]string{"a.xml", "b.xml", "inside.xml", "sub/d.xml", "sub/deeper/e.xml"}},
		{"recursive without archive lists it", Config{Dir: dir, Pattern: "*.xml", Recursive: true},
			[]string{"a.xml", "archive/old.xml", "b.xml", "inside.xml", "quarantine/bad.xml", "sub/d.xml", "sub/deeper/e.xml"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := New("src", tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			refs, err := s.List(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if got := paths(refs); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("List() = %q, want %q", got, tt.want)
			}
			for _, r := range refs {
				if r.Source != "src" || r.Size != int64(len(read(t, filepath.Join(dir, r.Path)))) || r.ModTime.IsZero() {
					t.Errorf("ref %+v: wrong source, size or time", r)
				}
			}
		})
	}
}

func TestListThroughLinkedDir(t *testing.T) {
	root := t.TempDir()
	write(t, filepath.Join(root, "real", "a.xml"), "a")
	link := filepath.Join(root, "link")
	if err := os.Symlink(filepath.Join(root, "real"), link); err != nil {
		t.Fatal(err)
	}
	s, err := New("s", Config{Dir: link})
	if err != nil {
		t.Fatal(err)
	}
	refs, err := s.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got := paths(refs); !reflect.DeepEqual(got, []string{"a.xml"}) {
		t.Fatalf("List() = %q", got)
	}
}

func TestListErrors(t *testing.T) {
	s, err := New("s", Config{Dir: filepath.Join(t.TempDir(), "missing")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.List(context.Background()); err == nil || !strings.Contains(err.Error(), "listing") {
		t.Fatalf("List() on a missing dir = %v", err)
	}
	dir := t.TempDir()
	write(t, filepath.Join(dir, "a.xml"), "x")
	s, _ = New("s", Config{Dir: dir})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.List(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("List(cancelled) = %v", err)
	}
}

func TestOpen(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "in")
	write(t, filepath.Join(dir, "a.xml"), "hello")
	write(t, filepath.Join(root, "secret.xml"), "secret")
	s, err := New("s", Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	rc, err := s.Open(ctx, connectors.StatementRef{Path: "a.xml"})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(rc)
	rc.Close()
	if string(b) != "hello" {
		t.Fatalf("read %q", b)
	}
	tests := []struct {
		name        string
		path        string
		errContains string
		notFound    bool
	}{
		{"vanished", "gone.xml", `opening "gone.xml"`, true},
		{"escape", "../secret.xml", "not inside the source folder", false},
		{"absolute", "/etc/passwd", "not inside the source folder", false},
	}
	if err := os.Symlink(filepath.Join(root, "secret.xml"), filepath.Join(dir, "evil.xml")); err != nil {
		t.Fatal(err)
	}
	tests = append(tests, struct {
		name        string
		path        string
		errContains string
		notFound    bool
	}{"link out", "evil.xml", "leads out of the source folder", false})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc, err := s.Open(ctx, connectors.StatementRef{Path: tt.path})
			if err == nil {
				rc.Close()
				t.Fatal("Open succeeded")
			}
			if !strings.Contains(err.Error(), tt.errContains) {
				t.Fatalf("Open() = %v, want %q", err, tt.errContains)
			}
			if errors.Is(err, connectors.ErrNotFound) != tt.notFound {
				t.Fatalf("errors.Is(%v, ErrNotFound) != %v", err, tt.notFound)
			}
		})
	}
}

func TestArchive(t *testing.T) {
	root := t.TempDir()
	dir, arch := filepath.Join(root, "in"), filepath.Join(root, "archive")
	s, err := New("s", Config{Dir: dir, Recursive: true, ArchiveDir: arch})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	// The same name delivered three times: never overwritten.
	for i, content := range []string{"one", "two", "three"} {
		write(t, filepath.Join(dir, "sub", "stmt.xml"), content)
		if err := s.Archive(ctx, connectors.StatementRef{Path: "sub/stmt.xml"}); err != nil {
			t.Fatalf("archive %d: %v", i, err)
		}
		if _, err := os.Stat(filepath.Join(dir, "sub", "stmt.xml")); !os.IsNotExist(err) {
			t.Fatalf("archive %d left the original: %v", i, err)
		}
	}
	for name, want := range map[string]string{"stmt.xml": "one", "stmt.1.xml": "two", "stmt.2.xml": "three"} {
		if got := read(t, filepath.Join(arch, "sub", name)); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	err = s.Archive(ctx, connectors.StatementRef{Path: "sub/stmt.xml"})
	if !errors.Is(err, connectors.ErrNotFound) || !strings.Contains(err.Error(), `archiving "sub/stmt.xml"`) {
		t.Fatalf("archiving a missing file = %v", err)
	}
}

func TestArchiveCrossDevice(t *testing.T) {
	root := t.TempDir()
	dir, arch := filepath.Join(root, "in"), filepath.Join(root, "archive")
	old := link
	link = func(string, string) error { return &os.LinkError{Op: "link", Err: syscall.EXDEV} }
	t.Cleanup(func() { link = old })
	s, err := New("s", Config{Dir: dir, ArchiveDir: arch})
	if err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(arch, "a.xml"), "older")
	write(t, filepath.Join(dir, "a.xml"), "newer")
	if err := s.Archive(context.Background(), connectors.StatementRef{Path: "a.xml"}); err != nil {
		t.Fatal(err)
	}
	if got := read(t, filepath.Join(arch, "a.xml")); got != "older" {
		t.Fatalf("overwrote the older archive: %q", got)
	}
	if got := read(t, filepath.Join(arch, "a.1.xml")); got != "newer" {
		t.Fatalf("copy = %q", got)
	}
	if _, err := os.Stat(filepath.Join(dir, "a.xml")); !os.IsNotExist(err) {
		t.Fatalf("original left behind: %v", err)
	}
}

func TestArchiveDisabled(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "a.xml"), "x")
	s, _ := New("s", Config{Dir: dir})
	ctx := context.Background()
	if err := s.Archive(ctx, connectors.StatementRef{Path: "a.xml"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Quarantine(ctx, connectors.StatementRef{Path: "a.xml"}, errors.New("bad")); err != nil {
		t.Fatal(err)
	}
	if got := read(t, filepath.Join(dir, "a.xml")); got != "x" {
		t.Fatalf("file changed: %q", got)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("folder holds %d entries, want 1", len(entries))
	}
}

func TestQuarantine(t *testing.T) {
	root := t.TempDir()
	dir, q := filepath.Join(root, "in"), filepath.Join(root, "in", "quarantine")
	s, err := New("s", Config{Dir: dir, Recursive: true, QuarantineDir: q})
	if err != nil {
		t.Fatal(err)
	}
	s.now = func() time.Time { return time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC) }
	ctx := context.Background()
	write(t, filepath.Join(dir, "bad.xml"), "<oops")
	write(t, filepath.Join(q, "bad.xml"), "earlier")
	if err := s.Quarantine(ctx, connectors.StatementRef{Path: "bad.xml"}, errors.New("parsing bad.xml:1: unexpected EOF")); err != nil {
		t.Fatal(err)
	}
	if got := read(t, filepath.Join(q, "bad.1.xml")); got != "<oops" {
		t.Fatalf("quarantined content = %q", got)
	}
	side := read(t, filepath.Join(q, "bad.1.xml.error.txt"))
	for _, want := range []string{"file: bad.xml", "quarantined_at: 2026-11-23T12:00:00Z", "cause: parsing bad.xml:1: unexpected EOF"} {
		if !strings.Contains(side, want) {
			t.Errorf("sidecar %q lacks %q", side, want)
		}
	}
	refs, err := s.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(refs) != 0 {
		t.Fatalf("List after quarantine = %q", paths(refs))
	}
}
