// Package sftp is the statement source that reads CAMT files from a folder
// on an SFTP server (the usual drop of banks and EBICS/SWIFT gateways).
//
// The server's host key is always verified (known_hosts or a pinned
// fingerprint). The connection is opened on first use, kept alive, and
// re-opened with exponential backoff and jitter after a failure. Files are
// streamed, never copied locally. Errors caused by the network or the
// server being down wrap connectors.ErrUnavailable: the pass must be
// retried, and the file must not be quarantined.
package sftp

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	pkgsftp "github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/lettrage/lettrage/connectors"
	"github.com/lettrage/lettrage/connectors/internal/secret"
	"github.com/lettrage/lettrage/connectors/source/internal/filing"
)

// ErrHostKey is wrapped when the server's host key is not the one
// configured: a permanent error, never retried.
var ErrHostKey = errors.New("host key verification failed")

// ErrAuth is wrapped when the server refused our credentials: a permanent
// error, never retried.
var ErrAuth = errors.New("authentication refused")

// ErrTooLarge is wrapped when a file exceeds max_file_bytes.
var ErrTooLarge = errors.New("file exceeds max_file_bytes")

// Option adjusts a Source beyond its Config.
type Option func(*Source)

// WithLogger sets the logger (default slog.Default()); the source adds
// component=source and source=<name>.
func WithLogger(l *slog.Logger) Option { return func(s *Source) { s.log = l } }

// WithBackoff sets how connecting is retried: attempts tries in all,
// waiting base, 2×base, … (at most max), each with ±50% jitter.
// Default: 4 attempts, 1s, 15s.
func WithBackoff(attempts int, base, max time.Duration) Option {
	return func(s *Source) { s.attempts, s.backoffBase, s.backoffMax = attempts, base, max }
}

// withClock replaces time.Now (tests).
func withClock(now func() time.Time) Option { return func(s *Source) { s.now = now } }

// Source is a StatementSource over SFTP. It is safe for concurrent use,
// though the pipeline uses it one pass at a time.
type Source struct {
	name     string
	cfg      Config // with defaults, secrets resolved
	addr     string
	auth     []ssh.AuthMethod
	hostKey  ssh.HostKeyCallback
	hostAlgs []string
	log      *slog.Logger
	now      func() time.Time

	attempts                int
	backoffBase, backoffMax time.Duration

	mu   sync.Mutex
	conn *conn
	seen map[string]observation // stable_size: the previous listing
}

type observation struct {
	size    int64
	modTime time.Time
}

var _ connectors.StatementSource = (*Source)(nil)

// New validates cfg, reads the key, password and known_hosts files, and
// returns the source. It does not connect: the first List does.
func New(name string, cfg Config, opts ...Option) (*Source, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("configuring sftp source %q: %w", name, err)
	}
	s := &Source{
		name: name, cfg: cfg.withDefaults(), log: slog.Default(), now: time.Now,
		attempts: 4, backoffBase: time.Second, backoffMax: 15 * time.Second,
	}
	for _, o := range opts {
		o(s)
	}
	s.log = s.log.With("component", "source", "source", name)
	s.addr = net.JoinHostPort(s.cfg.Host, strconv.Itoa(s.cfg.Port))
	if err := s.setupAuth(); err != nil {
		return nil, fmt.Errorf("configuring sftp source %q: %w", name, err)
	}
	if err := s.setupHostKey(); err != nil {
		return nil, fmt.Errorf("configuring sftp source %q: %w", name, err)
	}
	return s, nil
}

func (s *Source) setupAuth() error {
	c := &s.cfg
	key, err := secret.Read("private_key", c.PrivateKey, c.PrivateKeyFile)
	if err != nil {
		return err
	}
	pass, err := secret.Read("passphrase", c.Passphrase, c.PassphraseFile)
	if err != nil {
		return err
	}
	pw, err := secret.Read("password", c.Password, c.PasswordFile)
	if err != nil {
		return err
	}
	if key != "" {
		var signer ssh.Signer
		if pass != "" {
			signer, err = ssh.ParsePrivateKeyWithPassphrase([]byte(key), []byte(pass))
		} else {
			signer, err = ssh.ParsePrivateKey([]byte(key))
		}
		if err != nil {
			var missing *ssh.PassphraseMissingError
			if errors.As(err, &missing) {
				return errors.New("private_key: the key is encrypted: set passphrase or passphrase_file")
			}
			// The parser's message never contains the key.
			return fmt.Errorf("private_key: parsing: %w", err)
		}
		s.auth = append(s.auth, ssh.PublicKeys(signer))
	}
	if pw != "" {
		s.auth = append(s.auth, ssh.Password(pw), ssh.KeyboardInteractive(
			func(_, _ string, questions []string, _ []bool) ([]string, error) {
				answers := make([]string, len(questions))
				for i := range answers {
					answers[i] = pw
				}
				return answers, nil
			}))
	}
	return nil
}

func (s *Source) setupHostKey() error {
	c := &s.cfg
	if c.HostKeyFingerprint != "" {
		want := strings.TrimRight(c.HostKeyFingerprint, "=")
		s.hostKey = func(_ string, _ net.Addr, key ssh.PublicKey) error {
			if got := ssh.FingerprintSHA256(key); got != want {
				return fmt.Errorf("%w: server offered %s %s, pinned %s", ErrHostKey, key.Type(), got, want)
			}
			return nil
		}
		return nil
	}
	cb, err := knownhosts.New(c.KnownHosts)
	if err != nil {
		return fmt.Errorf("known_hosts: reading: %w", err)
	}
	s.hostKey = func(host string, remote net.Addr, key ssh.PublicKey) error {
		if err := cb(host, remote, key); err != nil {
			return fmt.Errorf("%w: %w", ErrHostKey, err)
		}
		return nil
	}
	s.hostAlgs = knownAlgorithms(cb, s.addr)
	return nil
}

// knownAlgorithms lists the host key algorithms known_hosts holds for
// addr, so that the handshake asks the server for a key we can check
// (otherwise a server with several keys may offer one we do not know).
func knownAlgorithms(cb ssh.HostKeyCallback, addr string) []string {
	_, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		return nil
	}
	probe, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		return nil
	}
	var ke *knownhosts.KeyError
	if err := cb(addr, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)}, probe.PublicKey()); !errors.As(err, &ke) {
		return nil
	}
	var algs []string
	seen := map[string]bool{}
	for _, k := range ke.Want {
		types := []string{k.Key.Type()}
		if k.Key.Type() == ssh.KeyAlgoRSA {
			types = []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA}
		}
		for _, t := range types {
			if !seen[t] {
				seen[t] = true
				algs = append(algs, t)
			}
		}
	}
	return algs
}

// conn is one SSH connection with its SFTP session.
type conn struct {
	nc   net.Conn
	ssh  *ssh.Client
	sftp *pkgsftp.Client
	dead chan struct{} // closed when the connection is gone
	// closed is set by close before it closes the socket: a call that
	// follows an operation close cut short (a cancelled read) finds the
	// connection gone and connects again, without waiting for dead, which
	// closes only once the SSH client has seen the socket go.
	closed atomic.Bool
}

func (c *conn) alive() bool {
	if c.closed.Load() {
		return false
	}
	select {
	case <-c.dead:
		return false
	default:
		return true
	}
}

// close drops the connection. The socket goes first: closing the SFTP
// session politely writes to it, which blocks on a hung server.
func (c *conn) close() {
	c.closed.Store(true)
	_ = c.nc.Close()
	_ = c.ssh.Close()
	_ = c.sftp.Close()
}

// Close closes the connection, if any. The source stays usable: the next
// call connects again.
func (s *Source) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn != nil {
		s.conn.close()
		s.conn = nil
	}
	return nil
}

// client returns a live connection, connecting (with retries) if needed.
func (s *Source) client(ctx context.Context) (*conn, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn != nil && s.conn.alive() {
		return s.conn, nil
	}
	if s.conn != nil {
		s.conn.close()
		s.conn = nil
		s.log.Warn("sftp connection lost; reconnecting", "addr", s.addr)
	}
	var err error
	for attempt := 1; ; attempt++ {
		var c *conn
		c, err = s.dial(ctx)
		if err == nil {
			s.conn = c
			return c, nil
		}
		if errors.Is(err, ErrHostKey) || errors.Is(err, ErrAuth) || ctx.Err() != nil || attempt >= s.attempts {
			break
		}
		d := s.backoff(attempt)
		s.log.Warn("connecting to sftp server failed; retrying", "addr", s.addr, "attempt", attempt, "retry_in", d.Round(time.Millisecond), "err", err)
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("connecting to %s: %w: %w", s.addr, connectors.ErrUnavailable, errors.Join(err, ctx.Err()))
		case <-t.C:
		}
	}
	if errors.Is(err, ErrHostKey) || errors.Is(err, ErrAuth) {
		return nil, fmt.Errorf("connecting to %s: %w", s.addr, err)
	}
	return nil, fmt.Errorf("connecting to %s: %w: %w", s.addr, connectors.ErrUnavailable, err)
}

// backoff is the wait after the attempt-th failure: exponential, capped,
// with ±50% jitter so that many replicas do not knock together.
func (s *Source) backoff(attempt int) time.Duration {
	d := s.backoffBase << (attempt - 1)
	if d > s.backoffMax || d <= 0 {
		d = s.backoffMax
	}
	return d/2 + time.Duration(rand.Int64N(int64(d)+1))
}

func (s *Source) dial(ctx context.Context) (*conn, error) {
	cfg := &ssh.ClientConfig{
		User:              s.cfg.User,
		Auth:              s.auth,
		HostKeyCallback:   s.hostKey,
		HostKeyAlgorithms: s.hostAlgs,
		Timeout:           s.cfg.Timeout,
		ClientVersion:     "SSH-2.0-lettrage",
	}
	d := net.Dialer{Timeout: s.cfg.Timeout, KeepAlive: 30 * time.Second}
	nc, err := d.DialContext(ctx, "tcp", s.addr)
	if err != nil {
		return nil, err
	}
	// The deadline bounds the handshake and the SFTP start; cancelling
	// ctx aborts them too.
	_ = nc.SetDeadline(time.Now().Add(s.cfg.Timeout))
	stop := context.AfterFunc(ctx, func() { _ = nc.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	sc, chans, reqs, err := ssh.NewClientConn(nc, s.addr, cfg)
	if err != nil {
		nc.Close()
		if !errors.Is(err, ErrHostKey) && strings.Contains(err.Error(), "unable to authenticate") {
			// x/crypto/ssh has no typed error for a refused login.
			return nil, fmt.Errorf("%w for user %q: %w", ErrAuth, s.cfg.User, err)
		}
		return nil, err
	}
	client := ssh.NewClient(sc, chans, reqs)
	sc2, err := pkgsftp.NewClient(client, pkgsftp.UseConcurrentReads(true))
	if err != nil {
		client.Close()
		return nil, fmt.Errorf("starting the sftp subsystem: %w", err)
	}
	if !stop() {
		client.Close()
		return nil, ctx.Err()
	}
	_ = nc.SetDeadline(time.Time{})
	c := &conn{nc: nc, ssh: client, sftp: sc2, dead: make(chan struct{})}
	go func() { _ = client.Wait(); close(c.dead) }()
	if s.cfg.KeepAlive > 0 {
		go s.keepAlive(c)
	}
	s.log.Debug("connected to sftp server", "addr", s.addr)
	return c, nil
}

// keepAlive sends keep-alives and closes a connection that stops answering,
// so that blocked reads fail instead of hanging.
func (s *Source) keepAlive(c *conn) {
	t := time.NewTicker(s.cfg.KeepAlive)
	defer t.Stop()
	for {
		select {
		case <-c.dead:
			return
		case <-t.C:
		}
		errc := make(chan error, 1)
		go func() {
			_, _, err := c.ssh.SendRequest("keepalive@openssh.com", true, nil)
			errc <- err
		}()
		timer := time.NewTimer(s.cfg.Timeout)
		select {
		case err := <-errc:
			timer.Stop()
			if err != nil {
				c.close()
				return
			}
		case <-timer.C:
			s.log.Warn("sftp server stopped answering keep-alives; closing the connection", "addr", s.addr)
			c.close()
			return
		case <-c.dead:
			timer.Stop()
			return
		}
	}
}

// opErr wraps err with connectors.ErrUnavailable when the connection is
// the cause.
func opErr(c *conn, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, connectors.ErrUnavailable) {
		return err
	}
	if connLost(c, err) {
		return fmt.Errorf("%w: %w", connectors.ErrUnavailable, err)
	}
	return err
}

func connLost(c *conn, err error) bool {
	if errors.Is(err, pkgsftp.ErrSSHFxConnectionLost) || errors.Is(err, net.ErrClosed) || errors.Is(err, io.ErrUnexpectedEOF) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	if !c.alive() {
		return true
	}
	// The broadcast of a lost connection can trail the failed request.
	select {
	case <-c.dead:
		return true
	case <-time.After(50 * time.Millisecond):
		return false
	}
}

// guard closes the connection when ctx is cancelled, so that a blocked
// operation returns; call the returned stop when the operation is done.
func guard(ctx context.Context, c *conn) func() bool {
	return context.AfterFunc(ctx, c.close)
}

// remote maps a reference to its remote path, refusing paths that would
// escape the folder.
func (s *Source) remote(ref connectors.StatementRef) (string, error) {
	if !filepath.IsLocal(filepath.FromSlash(ref.Path)) || strings.Contains(ref.Path, "\\") {
		return "", fmt.Errorf("statement path %q is not inside the source folder", ref.Path)
	}
	return path.Join(s.cfg.Dir, ref.Path), nil
}

// List returns the files of the folder that match the pattern and the
// stability rules, sorted by path. It skips hidden files and folders,
// quarantine sidecars, done markers, and the archive and quarantine
// folders when they lie inside the folder. Symbolic links to regular files
// are listed with their target's size; links to folders are not followed.
func (s *Source) List(ctx context.Context) ([]connectors.StatementRef, error) {
	c, err := s.client(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing %q: %w", s.cfg.Dir, err)
	}
	defer guard(ctx, c)()
	skip := map[string]bool{}
	for _, d := range []string{s.cfg.ArchiveDir, s.cfg.QuarantineDir} {
		if d == "" {
			continue
		}
		skip[path.Clean(d)] = true
		if rp, err := c.sftp.RealPath(d); err == nil {
			skip[rp] = true
		}
	}
	var refs []connectors.StatementRef
	obs := map[string]observation{}
	now := s.now()
	var walk func(dir, rel string) error
	walk = func(dir, rel string) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		infos, err := c.sftp.ReadDir(dir)
		if err != nil {
			return fmt.Errorf("reading folder %q: %w", dir, opErr(c, err))
		}
		names := make(map[string]bool, len(infos))
		for _, fi := range infos {
			names[fi.Name()] = true
		}
		for _, fi := range infos {
			name := fi.Name()
			if strings.HasPrefix(name, ".") {
				continue
			}
			p, r := path.Join(dir, name), path.Join(rel, name)
			if fi.IsDir() {
				if !s.cfg.Recursive || skip[p] {
					continue
				}
				if rp, err := c.sftp.RealPath(p); err == nil && skip[rp] {
					continue
				}
				if err := walk(p, r); err != nil {
					return err
				}
				continue
			}
			if strings.HasSuffix(name, filing.SidecarSuffix) {
				continue
			}
			marker := s.cfg.Stable.DoneMarker
			if marker != "" && strings.HasSuffix(name, marker) && len(name) > len(marker) {
				continue
			}
			if s.cfg.Pattern != "" {
				if ok, _ := path.Match(s.cfg.Pattern, name); !ok {
					continue
				}
			}
			if fi.Mode()&fs.ModeSymlink != 0 {
				target, err := c.sftp.Stat(p)
				if err != nil || !target.Mode().IsRegular() {
					continue
				}
				fi = target
			} else if !fi.Mode().IsRegular() {
				continue
			}
			ob := observation{size: fi.Size(), modTime: fi.ModTime()}
			obs[r] = ob
			if !s.ready(r, name, ob, names, now) {
				continue
			}
			refs = append(refs, connectors.StatementRef{Source: s.name, Path: r, Size: fi.Size(), ModTime: fi.ModTime()})
		}
		return nil
	}
	if err := walk(s.cfg.Dir, ""); err != nil {
		if ctx.Err() != nil {
			err = errors.Join(err, ctx.Err())
		}
		return nil, fmt.Errorf("listing %q: %w", s.cfg.Dir, err)
	}
	s.mu.Lock()
	s.seen = obs
	s.mu.Unlock()
	sort.Slice(refs, func(i, j int) bool { return refs[i].Path < refs[j].Path })
	return refs, nil
}

// ready applies the stability rules to one file.
func (s *Source) ready(rel, name string, ob observation, names map[string]bool, now time.Time) bool {
	st := s.cfg.Stable
	if st.MinAge > 0 && now.Sub(ob.modTime) < st.MinAge {
		s.log.Debug("skipping a file still young", "file", rel, "age", now.Sub(ob.modTime))
		return false
	}
	if st.DoneMarker != "" && !names[name+st.DoneMarker] {
		s.log.Debug("skipping a file without its done marker", "file", rel)
		return false
	}
	if st.StableSize {
		s.mu.Lock()
		prev, ok := s.seen[rel]
		s.mu.Unlock()
		if !ok || prev.size != ob.size || !prev.modTime.Equal(ob.modTime) {
			s.log.Debug("skipping a file whose size is not yet stable", "file", rel, "size", ob.size)
			return false
		}
	}
	return true
}

// Open streams the remote file. A file that vanished since List gives an
// error wrapping connectors.ErrNotFound; a larger file than max_file_bytes
// ErrTooLarge; a dropped connection, during Open or any later Read,
// connectors.ErrUnavailable. A read that ends before the size the file had
// when opened is an error too, never a silent short file.
func (s *Source) Open(ctx context.Context, ref connectors.StatementRef) (io.ReadCloser, error) {
	p, err := s.remote(ref)
	if err != nil {
		return nil, fmt.Errorf("opening %q: %w", ref.Path, err)
	}
	c, err := s.client(ctx)
	if err != nil {
		return nil, fmt.Errorf("opening %q: %w", ref.Path, err)
	}
	stop := guard(ctx, c)
	f, err := c.sftp.Open(p)
	if err != nil {
		stop()
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("opening %q: %w: %w", ref.Path, connectors.ErrNotFound, err)
		}
		return nil, fmt.Errorf("opening %q: %w", ref.Path, opErr(c, err))
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		stop()
		return nil, fmt.Errorf("opening %q: %w", ref.Path, opErr(c, err))
	}
	if max := s.cfg.MaxFileBytes; max > 0 && fi.Size() > max {
		f.Close()
		stop()
		return nil, fmt.Errorf("opening %q: %w: %d bytes > %d", ref.Path, ErrTooLarge, fi.Size(), max)
	}
	return &reader{f: f, br: bufio.NewReaderSize(f, 256<<10), c: c, stop: stop, ref: ref.Path, size: fi.Size(), max: s.cfg.MaxFileBytes}, nil
}

// reader streams one remote file, classifying errors.
type reader struct {
	f    *pkgsftp.File
	br   *bufio.Reader // large reads let pkg/sftp pipeline requests
	c    *conn
	stop func() bool
	ref  string
	size int64 // when opened
	max  int64
	n    int64
	err  error
}

func (r *reader) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	n, err := r.br.Read(p)
	r.n += int64(n)
	switch {
	case r.max > 0 && r.n > r.max:
		r.err = fmt.Errorf("reading %q: %w: more than %d bytes", r.ref, ErrTooLarge, r.max)
		return 0, r.err
	case err == io.EOF:
		if !r.c.alive() {
			r.err = fmt.Errorf("reading %q: %w: connection closed at byte %d", r.ref, connectors.ErrUnavailable, r.n)
			return n, r.err
		}
		if r.n < r.size {
			// Rewritten or truncated while we read: retry next pass.
			r.err = fmt.Errorf("reading %q: %w: %w: file ended at byte %d of %d (changed while reading?)", r.ref, connectors.ErrUnavailable, io.ErrUnexpectedEOF, r.n, r.size)
			return n, r.err
		}
		return n, io.EOF
	case err != nil:
		r.err = fmt.Errorf("reading %q: %w", r.ref, opErr(r.c, err))
		return n, r.err
	}
	return n, nil
}

func (r *reader) Close() error {
	defer r.stop()
	if err := r.f.Close(); err != nil && r.c.alive() && !errors.Is(err, os.ErrClosed) {
		return fmt.Errorf("closing %q: %w", r.ref, err)
	}
	return nil
}

// Archive moves the file into archive_dir under the same relative path (a
// taken name gets a numeric suffix: stmt.1.xml; nothing is overwritten),
// or deletes it with delete_after; otherwise it leaves it in place. Its
// done marker, if any, is removed.
func (s *Source) Archive(ctx context.Context, ref connectors.StatementRef) error {
	if s.cfg.ArchiveDir == "" && !s.cfg.DeleteAfter {
		return nil
	}
	p, err := s.remote(ref)
	if err != nil {
		return fmt.Errorf("archiving %q: %w", ref.Path, err)
	}
	c, err := s.client(ctx)
	if err != nil {
		return fmt.Errorf("archiving %q: %w", ref.Path, err)
	}
	defer guard(ctx, c)()
	if s.cfg.DeleteAfter {
		if err := c.sftp.Remove(p); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("deleting %q: %w: %w", ref.Path, connectors.ErrNotFound, err)
			}
			return fmt.Errorf("deleting %q: %w", ref.Path, opErr(c, err))
		}
		s.log.Info("deleted statement", "file", ref.Path)
	} else {
		dst, err := s.move(c, ref.Path, p, s.cfg.ArchiveDir)
		if err != nil {
			return fmt.Errorf("archiving %q: %w", ref.Path, err)
		}
		s.log.Info("archived statement", "file", ref.Path, "to", dst)
	}
	s.removeMarker(c, p)
	return nil
}

// Quarantine moves the file into quarantine_dir like Archive and writes
// beside it <name>.error.txt with the cause. Without quarantine_dir the
// file stays in place (the state store and the log keep the cause).
func (s *Source) Quarantine(ctx context.Context, ref connectors.StatementRef, cause error) error {
	if s.cfg.QuarantineDir == "" {
		s.log.Warn("statement not readable; no quarantine_dir, left in place", "file", ref.Path, "err", cause)
		return nil
	}
	p, err := s.remote(ref)
	if err != nil {
		return fmt.Errorf("quarantining %q: %w", ref.Path, err)
	}
	c, err := s.client(ctx)
	if err != nil {
		return fmt.Errorf("quarantining %q: %w", ref.Path, err)
	}
	defer guard(ctx, c)()
	dst, err := s.move(c, ref.Path, p, s.cfg.QuarantineDir)
	if err != nil {
		return fmt.Errorf("quarantining %q: %w", ref.Path, err)
	}
	body := filing.Sidecar(ref.Path, s.name, s.now(), cause)
	if err := writeFile(c, dst+filing.SidecarSuffix, body); err != nil {
		return fmt.Errorf("quarantining %q: writing the error sidecar: %w", ref.Path, opErr(c, err))
	}
	s.removeMarker(c, p)
	s.log.Warn("quarantined statement", "file", ref.Path, "to", dst, "err", cause)
	return nil
}

func (s *Source) removeMarker(c *conn, p string) {
	if m := s.cfg.Stable.DoneMarker; m != "" {
		if err := c.sftp.Remove(p + m); err != nil && !errors.Is(err, fs.ErrNotExist) {
			s.log.Warn("removing done marker failed", "file", p+m, "err", err)
		}
	}
}

// move renames src into destRoot under rel's path and returns the new
// path, never overwriting: a taken name is skipped, and the SFTP rename
// (v3, as OpenSSH implements it) fails on an existing target anyway, so a
// name taken between the check and the rename is skipped too.
func (s *Source) move(c *conn, rel, src, destRoot string) (string, error) {
	destDir := path.Join(destRoot, path.Dir(rel))
	if err := c.sftp.MkdirAll(destDir); err != nil {
		return "", fmt.Errorf("creating %q: %w", destDir, opErr(c, err))
	}
	base := path.Base(rel)
	for i := 0; i < filing.MaxSuffix; i++ {
		dst := path.Join(destDir, filing.Suffixed(base, i))
		// Some servers' rename overwrites: look first. OpenSSH's refuses
		// an existing target, which also closes the race.
		if _, err := c.sftp.Lstat(dst); err == nil {
			continue
		}
		err := c.sftp.Rename(src, dst)
		if err == nil {
			return dst, nil
		}
		if _, serr := c.sftp.Lstat(src); errors.Is(serr, fs.ErrNotExist) {
			return "", fmt.Errorf("%w: %w", connectors.ErrNotFound, serr)
		}
		if _, derr := c.sftp.Lstat(dst); derr == nil {
			continue // taken
		}
		return "", fmt.Errorf("renaming to %q: %w", dst, opErr(c, err))
	}
	return "", fmt.Errorf("no free name for %q in %q after %d tries", base, destDir, filing.MaxSuffix)
}

func writeFile(c *conn, p string, data []byte) error {
	f, err := c.sftp.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_TRUNC)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
