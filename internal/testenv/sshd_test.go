package testenv

import (
	"os"
	"strings"
	"testing"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

func dialSFTP(t *testing.T, s *SSHD, knownHostsFile string) (*sftp.Client, error) {
	t.Helper()
	signer, err := ssh.ParsePrivateKey(s.ClientKeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	cb, err := knownhosts.New(knownHostsFile)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := ssh.Dial("tcp", s.Addr(), &ssh.ClientConfig{User: s.User, Auth: []ssh.AuthMethod{ssh.PublicKeys(signer)}, HostKeyCallback: cb})
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { conn.Close() })
	return sftp.NewClient(conn)
}

func TestSSHD(t *testing.T) {
	s := StartSSHD(t)
	if err := os.WriteFile(s.Path("hello.txt"), []byte("hi"), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := dialSFTP(t, s, s.KnownHosts)
	if err != nil {
		t.Fatalf("dialing: %v\n%s", err, s.LogTail())
	}
	wd, err := c.Getwd()
	if err != nil || wd != s.DataDir {
		t.Fatalf("start dir %q (%v), want %q", wd, err, s.DataDir)
	}
	f, err := c.Open("hello.txt")
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 10)
	n, _ := f.Read(b)
	if string(b[:n]) != "hi" {
		t.Fatalf("read %q", b[:n])
	}
	if _, err := dialSFTP(t, s, s.OtherKnownHosts); err == nil || !strings.Contains(err.Error(), "key mismatch") {
		t.Fatalf("other known_hosts: got %v, want key mismatch", err)
	}
	s.Kill()
	if _, err := f.Read(b); err == nil {
		t.Fatal("read after Kill succeeded")
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	if _, err := dialSFTP(t, s, s.KnownHosts); err != nil {
		t.Fatalf("after restart: %v", err)
	}
}
