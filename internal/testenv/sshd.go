package testenv

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// NotInstalledError says that a server program is missing: tests report it
// through Missing (a failure in CI, a loud skip elsewhere).
type NotInstalledError struct {
	Program string
	Err     error
}

func (e *NotInstalledError) Error() string {
	return fmt.Sprintf("%s is not installed: %v", e.Program, e.Err)
}

func (e *NotInstalledError) Unwrap() error { return e.Err }

// Need reports err from a server start to t: Missing for a program that is
// not installed, Fatal for anything else.
func Need(t testing.TB, server string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	var ni *NotInstalledError
	if errors.As(err, &ni) {
		Missing(t, server, err)
	}
	t.Fatalf("starting %s: %v", server, err)
}

// SSHD is a private OpenSSH server on 127.0.0.1 that only speaks SFTP,
// rooted (as its start folder) at DataDir.
type SSHD struct {
	Dir     string // temp folder with config, keys and logs
	DataDir string // the folder SFTP sessions start in (absolute)
	Host    string // 127.0.0.1
	Port    int
	User    string // the current OS user

	ClientKey       string // path of the client's private key (OpenSSH PEM, no passphrase)
	ClientKeyPEM    []byte
	KnownHosts      string // path of a known_hosts file holding the host key
	HostKey         ssh.PublicKey
	Fingerprint     string // SHA256:… of the host key
	OtherKnownHosts string // a known_hosts naming the same address with another key

	program string
	config  string
	proc    *Process
}

// StartSSHD starts an sshd for one test and stops it when the test ends.
func StartSSHD(t testing.TB) *SSHD {
	t.Helper()
	s, err := NewSSHD(t.TempDir())
	Need(t, "sshd", err)
	t.Cleanup(s.Stop)
	return s
}

// NewSSHD prepares and starts an sshd whose files live in dir. Use it from
// TestMain to share one server across a package; call Stop when done.
func NewSSHD(dir string) (*SSHD, error) {
	prog, err := LookPath("sshd", "/usr/sbin/sshd")
	if err != nil {
		return nil, &NotInstalledError{Program: "sshd", Err: err}
	}
	if os.Geteuid() == 0 {
		if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
			return nil, fmt.Errorf("creating /run/sshd: %w", err)
		}
	}
	s := &SSHD{Dir: dir, DataDir: filepath.Join(dir, "data"), Host: "127.0.0.1", program: prog}
	if s.User, err = currentUser(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(s.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("creating sftp data dir: %w", err)
	}
	hostKey, hostPEM, err := NewKey("")
	if err != nil {
		return nil, err
	}
	s.HostKey = hostKey
	s.Fingerprint = ssh.FingerprintSHA256(hostKey)
	clientKey, clientPEM, err := NewKey("")
	if err != nil {
		return nil, err
	}
	s.ClientKeyPEM = clientPEM
	otherKey, _, err := NewKey("")
	if err != nil {
		return nil, err
	}
	if s.Port, err = FreePort(); err != nil {
		return nil, err
	}
	addr := fmt.Sprintf("[%s]:%d", s.Host, s.Port)
	s.ClientKey = filepath.Join(dir, "client_key")
	s.KnownHosts = filepath.Join(dir, "known_hosts")
	s.OtherKnownHosts = filepath.Join(dir, "known_hosts.other")
	s.config = filepath.Join(dir, "sshd_config")
	cfg := strings.Join([]string{
		"Port " + strconv.Itoa(s.Port),
		"ListenAddress " + s.Host,
		"HostKey " + filepath.Join(dir, "host_key"),
		"PidFile " + filepath.Join(dir, "sshd.pid"),
		"AuthorizedKeysFile " + filepath.Join(dir, "authorized_keys"),
		"StrictModes no",
		"PubkeyAuthentication yes",
		"PasswordAuthentication no",
		"KbdInteractiveAuthentication no",
		"UsePAM no",
		"PermitRootLogin prohibit-password",
		"LogLevel VERBOSE",
		"Subsystem sftp internal-sftp",
		"ForceCommand internal-sftp -d " + s.DataDir,
		"",
	}, "\n")
	files := map[string][]byte{
		"host_key":          hostPEM,
		"client_key":        clientPEM,
		"authorized_keys":   ssh.MarshalAuthorizedKey(clientKey),
		"known_hosts":       []byte(addr + " " + string(ssh.MarshalAuthorizedKey(hostKey))),
		"known_hosts.other": []byte(addr + " " + string(ssh.MarshalAuthorizedKey(otherKey))),
		"sshd_config":       []byte(cfg),
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			return nil, fmt.Errorf("writing sshd file %s: %w", name, err)
		}
	}
	if err := s.Start(); err != nil {
		return nil, err
	}
	return s, nil
}

// Start (re)starts the server on its port, after Kill or Stop.
func (s *SSHD) Start() error {
	proc, err := Start(filepath.Join(s.Dir, fmt.Sprintf("sshd-%d.log", time.Now().UnixNano())), s.program, "-D", "-e", "-f", s.config)
	if err != nil {
		return err
	}
	s.proc = proc
	addr := fmt.Sprintf("%s:%d", s.Host, s.Port)
	if err := WaitPort(addr, 5*time.Second); err != nil {
		s.Stop()
		return fmt.Errorf("starting sshd: %w\n%s", err, proc.LogTail())
	}
	return nil
}

// Addr is host:port.
func (s *SSHD) Addr() string { return fmt.Sprintf("%s:%d", s.Host, s.Port) }

// Kill stops the server and every session it forked, abruptly, as a crash
// would: open connections drop.
func (s *SSHD) Kill() {
	if s == nil || s.proc == nil || s.proc.Cmd.Process == nil {
		return
	}
	pid := s.proc.Cmd.Process.Pid
	for _, child := range descendants(pid) {
		_ = syscall.Kill(child, syscall.SIGKILL)
	}
	_ = syscall.Kill(pid, syscall.SIGCONT) // a frozen server must run to die cleanly
	s.proc.Stop()
	for _, child := range descendants(pid) {
		_ = syscall.Kill(child, syscall.SIGKILL)
	}
	s.proc = nil
}

// Stop is Kill; it is safe to call twice.
func (s *SSHD) Stop() { s.Kill() }

// LogTail is the end of the server's current log.
func (s *SSHD) LogTail() string {
	if s.proc == nil {
		return ""
	}
	return s.proc.LogTail()
}

// Path is the absolute path of rel inside the data folder.
func (s *SSHD) Path(rel string) string { return filepath.Join(s.DataDir, filepath.FromSlash(rel)) }

// NewKey makes an ed25519 key pair; the private key is OpenSSH PEM,
// encrypted when passphrase is not empty.
func NewKey(passphrase string) (ssh.PublicKey, []byte, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("generating key: %w", err)
	}
	var block *pem.Block
	if passphrase == "" {
		block, err = ssh.MarshalPrivateKey(priv, "lettrage-test")
	} else {
		block, err = ssh.MarshalPrivateKeyWithPassphrase(priv, "lettrage-test", []byte(passphrase))
	}
	if err != nil {
		return nil, nil, fmt.Errorf("encoding key: %w", err)
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		return nil, nil, fmt.Errorf("encoding public key: %w", err)
	}
	return sshPub, pem.EncodeToMemory(block), nil
}

func currentUser() (string, error) {
	out, err := exec.Command("id", "-un").Output()
	if err != nil {
		return "", fmt.Errorf("finding the current user: %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}

// descendants lists the processes below pid (children first found by
// walking /proc), so that a test can stop the sessions a server forked.
func descendants(pid int) []int {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	parent := map[int]int{}
	for _, e := range ents {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid …; comm may hold spaces and parentheses.
		rest := string(b)
		if i := strings.LastIndexByte(rest, ')'); i >= 0 {
			rest = rest[i+1:]
		}
		f := strings.Fields(rest)
		if len(f) < 2 {
			continue
		}
		if pp, err := strconv.Atoi(f[1]); err == nil {
			parent[p] = pp
		}
	}
	var out []int
	var walk func(int)
	walk = func(p int) {
		for c, pp := range parent {
			if pp == p {
				out = append(out, c)
				walk(c)
			}
		}
	}
	walk(pid)
	return out
}

// Authorize adds a client public key to the server's authorized_keys.
func (s *SSHD) Authorize(pub ssh.PublicKey) error {
	f, err := os.OpenFile(filepath.Join(s.Dir, "authorized_keys"), os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("authorizing key: %w", err)
	}
	if _, err := f.Write(ssh.MarshalAuthorizedKey(pub)); err != nil {
		f.Close()
		return fmt.Errorf("authorizing key: %w", err)
	}
	return f.Close()
}

// Freeze stops (SIGSTOP) the server and its sessions without closing any
// connection: the server looks alive to TCP but never answers, as a hung
// server or a dead network path does. Thaw resumes it.
func (s *SSHD) Freeze() { s.signalAll(syscall.SIGSTOP) }

// Thaw resumes a frozen server.
func (s *SSHD) Thaw() { s.signalAll(syscall.SIGCONT) }

func (s *SSHD) signalAll(sig syscall.Signal) {
	if s == nil || s.proc == nil || s.proc.Cmd.Process == nil {
		return
	}
	pid := s.proc.Cmd.Process.Pid
	_ = syscall.Kill(pid, sig)
	for _, child := range descendants(pid) {
		_ = syscall.Kill(child, sig)
	}
}
