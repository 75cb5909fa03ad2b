package sftp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lettrage/lettrage/connectors"
	"github.com/lettrage/lettrage/internal/testenv"
)

// One sshd for the package; tests that kill a server start their own.
var (
	srv    *testenv.SSHD
	srvErr error
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "lettrage-sshd-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	srv, srvErr = testenv.NewSSHD(dir)
	code := m.Run()
	if srv != nil {
		srv.Stop()
	}
	os.RemoveAll(dir)
	os.Exit(code)
}

// server returns the shared sshd, or reports why there is none.
func server(t *testing.T) *testenv.SSHD {
	t.Helper()
	testenv.Need(t, "sshd", srvErr)
	return srv
}

func encryptedKey(t *testing.T, passphrase string) string {
	t.Helper()
	_, pem, err := testenv.NewKey(passphrase)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem)
}

// folder makes a fresh remote folder for one test, with files (path →
// content), and returns its relative name and absolute path.
func folder(t *testing.T, s *testenv.SSHD, files map[string]string) (string, string) {
	t.Helper()
	rel := strings.NewReplacer("/", "_", " ", "_").Replace(t.Name())
	abs := s.Path(rel)
	if err := os.RemoveAll(abs); err != nil {
		t.Fatal(err)
	}
	for p, body := range files {
		full := filepath.Join(abs, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		t.Fatal(err)
	}
	return rel, abs
}

func newSource(t *testing.T, s *testenv.SSHD, dir string, mutate func(*Config), opts ...Option) *Source {
	t.Helper()
	cfg := Config{Host: s.Host, Port: s.Port, User: s.User, PrivateKeyFile: s.ClientKey, KnownHosts: s.KnownHosts, Dir: dir, Timeout: 5 * time.Second}
	if mutate != nil {
		mutate(&cfg)
	}
	opts = append([]Option{
		WithBackoff(2, 10*time.Millisecond, 20*time.Millisecond),
		WithLogger(slog.New(slog.NewTextHandler(t.Output(), nil))),
	}, opts...)
	src, err := New("bank", cfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	return src
}

func paths(refs []connectors.StatementRef) string {
	var p []string
	for _, r := range refs {
		p = append(p, r.Path)
	}
	return strings.Join(p, " ")
}

func readAll(t *testing.T, src *Source, ref connectors.StatementRef) (string, error) {
	t.Helper()
	rc, err := src.Open(context.Background(), ref)
	if err != nil {
		return "", err
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	return string(b), err
}

func TestList(t *testing.T) {
	s := server(t)
	files := map[string]string{
		"a.xml": "A", "b.053": "B", "c.txt": "C", ".hidden.xml": "H", "x.xml.error.txt": "E",
		"sub/d.xml": "D", "sub/deeper/e.xml": "E", ".git/f.xml": "F", "archive/old.xml": "O", "quarantine/bad.xml": "Q",
	}
	tests := []struct {
		name   string
		mutate func(*Config)
		want   string
	}{
		{name: "pattern", mutate: func(c *Config) { c.Pattern = "*.xml" }, want: "a.xml"},
		{name: "everything flat", want: "a.xml b.053 c.txt"},
		{name: "recursive", mutate: func(c *Config) { c.Pattern, c.Recursive = "*.xml", true }, want: "a.xml archive/old.xml quarantine/bad.xml sub/d.xml sub/deeper/e.xml"},
		{name: "recursive skips archive and quarantine", mutate: func(c *Config) {
			c.Pattern, c.Recursive = "*.xml", true
			c.ArchiveDir, c.QuarantineDir = c.Dir+"/archive", c.Dir+"/quarantine/"
		}, want: "a.xml sub/d.xml sub/deeper/e.xml"},
		{name: "bank extension", mutate: func(c *Config) { c.Pattern = "*.053" }, want: "b.053"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rel, _ := folder(t, s, files)
			src := newSource(t, s, rel, tt.mutate)
			refs, err := src.List(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if got := paths(refs); got != tt.want {
				t.Fatalf("listed %q, want %q", got, tt.want)
			}
			for _, r := range refs {
				if r.Source != "bank" || r.Size != 1 || r.ModTime.IsZero() {
					t.Errorf("ref %+v: want source bank, size 1 and a time", r)
				}
			}
		})
	}
}

func TestListAbsoluteDirAndMissingDir(t *testing.T) {
	s := server(t)
	_, abs := folder(t, s, map[string]string{"a.xml": "A"})
	refs, err := newSource(t, s, abs, nil).List(context.Background())
	if err != nil || paths(refs) != "a.xml" {
		t.Fatalf("absolute dir: %q, %v", paths(refs), err)
	}
	_, err = newSource(t, s, "does-not-exist", nil).List(context.Background())
	if err == nil || !strings.Contains(err.Error(), `listing "does-not-exist"`) || errors.Is(err, connectors.ErrUnavailable) {
		t.Fatalf("missing dir: got %v, want a listing error that is not ErrUnavailable", err)
	}
}

func TestOpen(t *testing.T) {
	s := server(t)
	big := strings.Repeat("<Ntry>0123456789</Ntry>\n", 200000) // 4.8 MB: several pipelined requests
	rel, abs := folder(t, s, map[string]string{"a.xml": "hello", "big.xml": big})
	src := newSource(t, s, rel, func(c *Config) { c.MaxFileBytes = 5 << 20 })
	got, err := readAll(t, src, connectors.StatementRef{Path: "a.xml"})
	if err != nil || got != "hello" {
		t.Fatalf("a.xml: %q, %v", got, err)
	}
	got, err = readAll(t, src, connectors.StatementRef{Path: "big.xml"})
	if err != nil || got != big {
		t.Fatalf("big.xml: %d bytes, %v", len(got), err)
	}
	if err := os.Remove(filepath.Join(abs, "a.xml")); err != nil {
		t.Fatal(err)
	}
	_, err = src.Open(context.Background(), connectors.StatementRef{Path: "a.xml"})
	if !errors.Is(err, connectors.ErrNotFound) {
		t.Fatalf("vanished file: got %v, want ErrNotFound", err)
	}
	_, err = src.Open(context.Background(), connectors.StatementRef{Path: "../escape.xml"})
	if err == nil || !strings.Contains(err.Error(), "not inside the source folder") {
		t.Fatalf("escaping path: got %v", err)
	}
	small := newSource(t, s, rel, func(c *Config) { c.MaxFileBytes = 1000 })
	_, err = small.Open(context.Background(), connectors.StatementRef{Path: "big.xml"})
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("too large: got %v, want ErrTooLarge", err)
	}
}

func TestOpenFileGrowingPastLimit(t *testing.T) {
	s := server(t)
	rel, abs := folder(t, s, map[string]string{"a.xml": "12345"})
	src := newSource(t, s, rel, func(c *Config) { c.MaxFileBytes = 10 })
	rc, err := src.Open(context.Background(), connectors.StatementRef{Path: "a.xml"})
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if err := os.WriteFile(filepath.Join(abs, "a.xml"), []byte(strings.Repeat("x", 100)), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadAll(rc); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("got %v, want ErrTooLarge", err)
	}
}

func TestArchive(t *testing.T) {
	s := server(t)
	rel, abs := folder(t, s, map[string]string{
		"a.xml": "new A", "sub/b.xml": "B", "c.xml": "C",
		"archive/a.xml": "old A", "archive/a.1.xml": "older A",
	})
	src := newSource(t, s, rel, func(c *Config) { c.ArchiveDir = rel + "/archive"; c.Recursive = true })
	ctx := context.Background()
	for _, p := range []string{"a.xml", "sub/b.xml"} {
		if err := src.Archive(ctx, connectors.StatementRef{Path: p}); err != nil {
			t.Fatalf("archiving %s: %v", p, err)
		}
	}
	want := map[string]string{
		"archive/a.xml": "old A", "archive/a.1.xml": "older A", "archive/a.2.xml": "new A",
		"archive/sub/b.xml": "B", "c.xml": "C",
	}
	assertTree(t, abs, want)
	err := src.Archive(ctx, connectors.StatementRef{Path: "a.xml"})
	if !errors.Is(err, connectors.ErrNotFound) {
		t.Fatalf("archiving a vanished file: got %v, want ErrNotFound", err)
	}

	del := newSource(t, s, rel, func(c *Config) { c.DeleteAfter = true })
	if err := del.Archive(ctx, connectors.StatementRef{Path: "c.xml"}); err != nil {
		t.Fatal(err)
	}
	delete(want, "c.xml")
	assertTree(t, abs, want)

	leave := newSource(t, s, rel, nil)
	if err := leave.Archive(ctx, connectors.StatementRef{Path: "archive/a.xml"}); err != nil {
		t.Fatal(err)
	}
	assertTree(t, abs, want)
}

func TestQuarantine(t *testing.T) {
	s := server(t)
	rel, abs := folder(t, s, map[string]string{"bad.xml": "<oops", "q/bad.xml": "earlier", "bad.xml.done": ""})
	now := time.Date(2026, 11, 23, 9, 30, 0, 0, time.UTC)
	src := newSource(t, s, rel, func(c *Config) { c.QuarantineDir = rel + "/q"; c.Stable.DoneMarker = ".done" }, withClock(func() time.Time { return now }))
	if err := src.Quarantine(context.Background(), connectors.StatementRef{Path: "bad.xml"}, errors.New("parsing line 1: unexpected EOF")); err != nil {
		t.Fatal(err)
	}
	assertTree(t, abs, map[string]string{
		"q/bad.xml":   "earlier",
		"q/bad.1.xml": "<oops",
		"q/bad.1.xml.error.txt": "file: bad.xml\nsource: bank\nquarantined_at: 2026-11-23T09:30:00Z\n" +
			"cause: parsing line 1: unexpected EOF\n",
	})
	// Without a quarantine folder the file stays.
	rel2, abs2 := folder(t, s, map[string]string{"bad.xml": "x"})
	if err := newSource(t, s, rel2, nil).Quarantine(context.Background(), connectors.StatementRef{Path: "bad.xml"}, nil); err != nil {
		t.Fatal(err)
	}
	assertTree(t, abs2, map[string]string{"bad.xml": "x"})
}

// assertTree checks the regular files below root.
func assertTree(t *testing.T, root string, want map[string]string) {
	t.Helper()
	got := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		r, _ := filepath.Rel(root, p)
		got[filepath.ToSlash(r)] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v {
			t.Errorf("%s: got %q (present %v), want %q", k, g, ok, v)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("unexpected file %s", k)
		}
	}
}

func TestHostKeyVerification(t *testing.T) {
	s := server(t)
	rel, _ := folder(t, s, map[string]string{"a.xml": "A"})
	tests := []struct {
		name   string
		mutate func(*Config)
		errIs  error
	}{
		{name: "known_hosts", mutate: func(*Config) {}},
		{name: "pinned fingerprint", mutate: func(c *Config) { c.KnownHosts, c.HostKeyFingerprint = "", s.Fingerprint }},
		{name: "known_hosts mismatch", mutate: func(c *Config) { c.KnownHosts = s.OtherKnownHosts }, errIs: ErrHostKey},
		{name: "wrong fingerprint", mutate: func(c *Config) {
			c.KnownHosts, c.HostKeyFingerprint = "", "SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8"
		}, errIs: ErrHostKey},
		{name: "host unknown to known_hosts", mutate: func(c *Config) {
			empty := filepath.Join(t.TempDir(), "known_hosts")
			if err := os.WriteFile(empty, nil, 0o600); err != nil {
				t.Fatal(err)
			}
			c.KnownHosts = empty
		}, errIs: ErrHostKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Five attempts with a long backoff: a permanent error must not wait for them.
			src := newSource(t, s, rel, tt.mutate, WithBackoff(5, time.Minute, time.Minute))
			refs, err := src.List(context.Background())
			if tt.errIs == nil {
				if err != nil || paths(refs) != "a.xml" {
					t.Fatalf("got %q, %v", paths(refs), err)
				}
				return
			}
			if !errors.Is(err, tt.errIs) || errors.Is(err, connectors.ErrUnavailable) {
				t.Fatalf("got %v, want %v and not ErrUnavailable", err, tt.errIs)
			}
		})
	}
}

func TestClientAuth(t *testing.T) {
	s := server(t)
	rel, _ := folder(t, s, map[string]string{"a.xml": "A"})
	pub, encrypted, err := testenv.NewKey("correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Authorize(pub); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		mutate func(*Config)
		errIs  error
	}{
		{name: "encrypted key with passphrase", mutate: func(c *Config) {
			c.PrivateKeyFile, c.PrivateKey, c.Passphrase = "", string(encrypted), "correct horse"
		}},
		{name: "unknown key", mutate: func(c *Config) { c.PrivateKeyFile, c.PrivateKey = "", encryptedKey(t, "") }, errIs: ErrAuth},
		{name: "password refused", mutate: func(c *Config) { c.PrivateKeyFile, c.Password = "", "guess" }, errIs: ErrAuth},
		{name: "wrong user", mutate: func(c *Config) { c.User = "nobody-here" }, errIs: ErrAuth},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := newSource(t, s, rel, tt.mutate, WithBackoff(5, time.Minute, time.Minute))
			_, err := src.List(context.Background())
			if tt.errIs == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, tt.errIs) || errors.Is(err, connectors.ErrUnavailable) {
				t.Fatalf("got %v, want %v and not ErrUnavailable", err, tt.errIs)
			}
			if strings.Contains(err.Error(), "guess") {
				t.Fatalf("error leaks the password: %v", err)
			}
		})
	}
}

func TestStability(t *testing.T) {
	s := server(t)
	ctx := context.Background()
	t.Run("min_age", func(t *testing.T) {
		rel, abs := folder(t, s, map[string]string{"old.xml": "O", "new.xml": "N"})
		now := time.Now()
		if err := os.Chtimes(filepath.Join(abs, "old.xml"), now, now.Add(-time.Hour)); err != nil {
			t.Fatal(err)
		}
		src := newSource(t, s, rel, func(c *Config) { c.Stable.MinAge = 10 * time.Minute })
		refs, err := src.List(ctx)
		if err != nil || paths(refs) != "old.xml" {
			t.Fatalf("got %q, %v; want old.xml", paths(refs), err)
		}
	})
	t.Run("done_marker", func(t *testing.T) {
		rel, abs := folder(t, s, map[string]string{"a.xml": "A", "a.xml.done": "", "b.xml": "B", "c.done": ""})
		src := newSource(t, s, rel, func(c *Config) { c.Stable.DoneMarker = ".done"; c.ArchiveDir = rel + "-archive" })
		refs, err := src.List(ctx)
		if err != nil || paths(refs) != "a.xml" {
			t.Fatalf("got %q, %v; want a.xml", paths(refs), err)
		}
		if err := src.Archive(ctx, refs[0]); err != nil {
			t.Fatal(err)
		}
		assertTree(t, abs, map[string]string{"b.xml": "B", "c.done": ""})
	})
	t.Run("stable_size", func(t *testing.T) {
		rel, abs := folder(t, s, map[string]string{"a.xml": "A"})
		src := newSource(t, s, rel, func(c *Config) { c.Stable.StableSize = true })
		list := func() string {
			t.Helper()
			refs, err := src.List(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return paths(refs)
		}
		if got := list(); got != "" {
			t.Fatalf("first listing: %q, want nothing (not seen before)", got)
		}
		if got := list(); got != "a.xml" {
			t.Fatalf("second listing: %q, want a.xml", got)
		}
		// The bank's gateway appends: the file is skipped until it settles.
		f, err := os.OpenFile(filepath.Join(abs, "a.xml"), os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteString("more"); err != nil {
			t.Fatal(err)
		}
		f.Close()
		if got := list(); got != "" {
			t.Fatalf("while growing: %q, want nothing", got)
		}
		if got := list(); got != "a.xml" {
			t.Fatalf("settled: %q, want a.xml", got)
		}
	})
}

func TestUnreachable(t *testing.T) {
	port, err := testenv.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	kh := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(kh, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	src, err := New("bank", Config{Host: "127.0.0.1", Port: port, User: "u", Password: "p", KnownHosts: kh},
		WithBackoff(3, time.Millisecond, 2*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	_, err = src.List(context.Background())
	if !errors.Is(err, connectors.ErrUnavailable) || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("got %v, want ErrUnavailable (connection refused)", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := src.List(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: got %v", err)
	}
}

// TestServerKilledMidDownload: the server dies while a file streams; the
// read fails with ErrUnavailable (so the pipeline applies nothing and
// retries next pass), and the same source works once the server is back.
func TestServerKilledMidDownload(t *testing.T) {
	s := testenv.StartSSHD(t)
	body := bytes.Repeat([]byte("<Ntry><Amt>12.34</Amt></Ntry>\n"), 1<<20) // 31 MB
	if err := os.WriteFile(s.Path("big.xml"), body, 0o644); err != nil {
		t.Fatal(err)
	}
	src := newSource(t, s, "", nil, WithBackoff(3, 10*time.Millisecond, 50*time.Millisecond))
	ctx := context.Background()
	refs, err := src.List(ctx)
	if err != nil || paths(refs) != "big.xml" {
		t.Fatalf("listing: %q, %v", paths(refs), err)
	}
	rc, err := src.Open(ctx, refs[0])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(rc, make([]byte, 1<<20)); err != nil {
		t.Fatal(err)
	}
	s.Kill()
	n, err := io.Copy(io.Discard, rc)
	rc.Close()
	if !errors.Is(err, connectors.ErrUnavailable) {
		t.Fatalf("after kill: read %d more bytes, err %v; want ErrUnavailable", n, err)
	}
	if n+1<<20 >= int64(len(body)) {
		t.Fatalf("the whole file arrived although the server was killed")
	}
	// While it is down: unavailable, after the retries.
	if _, err := src.List(ctx); !errors.Is(err, connectors.ErrUnavailable) {
		t.Fatalf("listing while down: got %v, want ErrUnavailable", err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	got, err := readAll(t, src, refs[0])
	if err != nil || got != string(body) {
		t.Fatalf("after restart: %d bytes, %v", len(got), err)
	}
}

func TestContextCancelsStream(t *testing.T) {
	s := server(t)
	rel, _ := folder(t, s, map[string]string{"big.xml": strings.Repeat("x", 4<<20)})
	src := newSource(t, s, rel, nil)
	ctx, cancel := context.WithCancel(context.Background())
	rc, err := src.Open(ctx, connectors.StatementRef{Path: "big.xml"})
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if _, err := io.ReadFull(rc, make([]byte, 1000)); err != nil {
		t.Fatal(err)
	}
	cancel()
	if _, err := io.Copy(io.Discard, rc); err == nil {
		t.Fatal("read went on after the context was cancelled")
	}
	// The source reconnects for the next call.
	if _, err := src.List(context.Background()); err != nil {
		t.Fatalf("after cancel: %v", err)
	}
}

func BenchmarkOpenRead(b *testing.B) {
	if srvErr != nil {
		b.Skip(srvErr)
	}
	body := bytes.Repeat([]byte("<Ntry><Amt>12.34</Amt></Ntry>\n"), 1<<19) // 15.7 MB
	dir := srv.Path("bench")
	_ = os.MkdirAll(dir, 0o755)
	if err := os.WriteFile(filepath.Join(dir, "big.xml"), body, 0o644); err != nil {
		b.Fatal(err)
	}
	src, err := New("bank", Config{Host: srv.Host, Port: srv.Port, User: srv.User, PrivateKeyFile: srv.ClientKey, KnownHosts: srv.KnownHosts, Dir: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	defer src.Close()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		rc, err := src.Open(context.Background(), connectors.StatementRef{Path: "big.xml"})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.Copy(io.Discard, rc); err != nil {
			b.Fatal(err)
		}
		rc.Close()
	}
}

// TestHungServer: a server that stops answering without closing the
// connection is detected by the keep-alives; the blocked read fails with
// ErrUnavailable instead of hanging the pass.
func TestHungServer(t *testing.T) {
	s := testenv.StartSSHD(t)
	body := bytes.Repeat([]byte("<Ntry><Amt>12.34</Amt></Ntry>\n"), 1<<20) // 31 MB
	if err := os.WriteFile(s.Path("big.xml"), body, 0o644); err != nil {
		t.Fatal(err)
	}
	// The timeout bounds the handshake too: on a loaded 2-core machine an
	// sshd forked per connection needs more than a few hundred
	// milliseconds for it (300 ms failed there at load average 20).
	const timeout = 2 * time.Second
	src := newSource(t, s, "", func(c *Config) { c.Timeout, c.KeepAlive = timeout, 100*time.Millisecond })
	rc, err := src.Open(context.Background(), connectors.StatementRef{Path: "big.xml"})
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if _, err := io.ReadFull(rc, make([]byte, 1<<20)); err != nil {
		t.Fatal(err)
	}
	s.Freeze()
	defer s.Thaw()
	done := make(chan error, 1)
	go func() {
		_, err := io.Copy(io.Discard, rc)
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, connectors.ErrUnavailable) {
			t.Fatalf("got %v, want ErrUnavailable", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("read still blocked 10s after the server hung")
	}
	// Connecting to the hung server times out too: two attempts
	// (newSource's backoff), each bounded by the timeout.
	start := time.Now()
	_, err = src.List(context.Background())
	if !errors.Is(err, connectors.ErrUnavailable) || time.Since(start) > 2*timeout+2*time.Second {
		t.Fatalf("listing a hung server: %v after %v; want ErrUnavailable within the timeouts", err, time.Since(start))
	}
}
