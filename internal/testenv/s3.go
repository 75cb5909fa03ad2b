package testenv

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// S3 is a versitygw S3 gateway on 127.0.0.1 with the posix backend: every
// folder of Root is a bucket and every file below it an object, so tests
// can also seed or inspect objects directly on disk.
type S3 struct {
	Endpoint  string // http://127.0.0.1:port
	Region    string
	AccessKey string
	SecretKey string
	Root      string // the posix backend's folder

	program string
	addr    string
	dir     string
	proc    *Process
}

// VersityGWPath finds the versitygw binary: $LETTRAGE_CACHE_BIN, then the
// user cache folder scripts/install-test-deps.sh builds it into, then PATH.
func VersityGWPath() (string, error) {
	var alts []string
	if d := os.Getenv("LETTRAGE_CACHE_BIN"); d != "" {
		alts = append(alts, filepath.Join(d, "versitygw"))
	}
	if d := os.Getenv("XDG_CACHE_HOME"); d != "" {
		alts = append(alts, filepath.Join(d, "lettrage", "bin", "versitygw"))
	}
	if home, err := os.UserHomeDir(); err == nil {
		alts = append(alts, filepath.Join(home, ".cache", "lettrage", "bin", "versitygw"))
	}
	for _, a := range alts {
		if st, err := os.Stat(a); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return a, nil
		}
	}
	return LookPath("versitygw", alts...)
}

// StartS3 starts a gateway for one test and stops it when the test ends.
func StartS3(t testing.TB) *S3 {
	t.Helper()
	s, err := NewS3(t.TempDir())
	Need(t, "versitygw", err)
	t.Cleanup(s.Stop)
	return s
}

// NewS3 starts a gateway whose files live in dir. Use it from TestMain to
// share one gateway across a package; call Stop when done.
func NewS3(dir string) (*S3, error) {
	prog, err := VersityGWPath()
	if err != nil {
		return nil, &NotInstalledError{Program: "versitygw", Err: err}
	}
	s := &S3{Region: "us-east-1", AccessKey: "LETTRAGETESTKEY", SecretKey: "lettrage-test-secret-0123456789", Root: filepath.Join(dir, "root"), program: prog, dir: dir}
	if err := os.MkdirAll(s.Root, 0o755); err != nil {
		return nil, fmt.Errorf("creating s3 root: %w", err)
	}
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	s.addr = fmt.Sprintf("127.0.0.1:%d", port)
	s.Endpoint = "http://" + s.addr
	if err := s.Start(); err != nil {
		return nil, err
	}
	return s, nil
}

// Start (re)starts the gateway on its port.
func (s *S3) Start() error {
	proc, err := Start(filepath.Join(s.dir, fmt.Sprintf("versitygw-%d.log", time.Now().UnixNano())), s.program,
		"--port", s.addr, "--access", s.AccessKey, "--secret", s.SecretKey, "--region", s.Region, "--quiet",
		"posix", s.Root)
	if err != nil {
		return err
	}
	s.proc = proc
	if err := WaitPort(s.addr, 10*time.Second); err != nil {
		s.Stop()
		return fmt.Errorf("starting versitygw: %w\n%s", err, proc.LogTail())
	}
	return nil
}

// Stop kills the gateway by PID; it is safe to call twice.
func (s *S3) Stop() {
	if s == nil || s.proc == nil {
		return
	}
	s.proc.Stop()
	s.proc = nil
}

// LogTail is the end of the gateway's log.
func (s *S3) LogTail() string {
	if s.proc == nil {
		return ""
	}
	return s.proc.LogTail()
}

// Path is the file holding key in bucket.
func (s *S3) Path(bucket, key string) string {
	return filepath.Join(s.Root, bucket, filepath.FromSlash(key))
}
