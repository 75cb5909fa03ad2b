// Package testenv starts the real servers that integration tests need
// (OpenSSH sshd, an S3 gateway, PostgreSQL, Tryton) on 127.0.0.1, each in a
// temporary folder, and stops them (by PID) when the test binary is done.
//
// A server whose program is not installed makes the test FAIL when CI=true
// and skip with a loud message otherwise. `scripts/install-test-deps.sh`
// (called by `make test`) installs every program.
package testenv

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"
)

// InCI reports whether the tests run in CI, where a missing server fails.
func InCI() bool {
	v, _ := strconv.ParseBool(os.Getenv("CI"))
	return v
}

// Missing reports a server the test cannot run without: a failure in CI,
// a loud skip on a developer's machine.
func Missing(t testing.TB, server string, why error) {
	t.Helper()
	msg := fmt.Sprintf("*** %s is not available: %v — run scripts/install-test-deps.sh (make test does) ***", server, why)
	if InCI() {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// LookPath finds a program in PATH or at one of the given absolute paths.
func LookPath(name string, alternatives ...string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, a := range alternatives {
		if st, err := os.Stat(a); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return a, nil
		}
	}
	return "", fmt.Errorf("%s not found in PATH or %v", name, alternatives)
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// WaitPort waits until something accepts TCP connections on addr.
func WaitPort(addr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("waiting for %s: %w", addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Process is a server started by a test; Stop kills it by PID.
type Process struct {
	Cmd  *exec.Cmd
	Log  string        // file holding its stdout and stderr
	done chan struct{} // closed once the process has exited and been reaped
}

// Start runs a server program with its output in logPath.
func Start(logPath string, name string, args ...string) (*Process, error) {
	f, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("creating server log: %w", err)
	}
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	return watch(cmd, f, logPath), nil
}

// watch reaps a started server in the background, closing its log.
func watch(cmd *exec.Cmd, log *os.File, logPath string) *Process {
	p := &Process{Cmd: cmd, Log: logPath, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); log.Close(); close(p.done) }()
	return p
}

// Stop kills the server and waits until it has exited.
func (p *Process) Stop() {
	if p == nil || p.Cmd.Process == nil {
		return
	}
	_ = p.Cmd.Process.Kill()
	// Wait until it is gone: a killed server still holds its listening
	// socket until it exits, and on a loaded machine that can take long
	// enough for a restarted server to fail to bind while the probe of
	// WaitPort connects to the dying one (then reset).
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
	}
}

// LogTail returns the end of the server's log, for failure messages.
func (p *Process) LogTail() string {
	b, err := os.ReadFile(p.Log)
	if err != nil {
		return ""
	}
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// startForTest starts a server in a temporary folder of its own for one
// test, and stops it and removes the folder when the test ends; a server
// that cannot start skips the test loudly, or fails it in CI (Need).
func startForTest[S interface{ Stop() }](t testing.TB, name, prefix string, start func(dir string) (S, error)) S {
	t.Helper()
	dir, err := os.MkdirTemp("", prefix)
	if err != nil {
		t.Fatal(err)
	}
	s, err := start(dir)
	t.Cleanup(func() {
		s.Stop()
		os.RemoveAll(dir)
	})
	Need(t, name, err)
	return s
}
