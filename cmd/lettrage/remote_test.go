package main

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lettrage/lettrage/internal/testenv"
)

// TestStatementsFromSFTPAndS3 runs `lettrage once` with two jobs whose
// statements sit on a real OpenSSH server and a real S3 gateway (one of them
// gzip-compressed), both on 127.0.0.1: the expected allocations come out,
// a second run adds nothing, and the statements end in the archive folders.
func TestStatementsFromSFTPAndS3(t *testing.T) {
	sshd := testenv.StartSSHD(t)
	s3 := testenv.StartS3(t)

	src := filepath.Join("..", "..", "deploy", "examples")
	entries, err := os.ReadDir(filepath.Join(src, "statements"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		data, err := os.ReadFile(filepath.Join(src, "statements", e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, e.Name())
		// SFTP: plain files in the bank's outbox.
		copyBytes(t, sshd.Path("outbox/"+e.Name()), data)
		// S3: gzip-compressed objects under a prefix.
		var gz bytes.Buffer
		zw := gzip.NewWriter(&gz)
		if _, err := zw.Write(data); err != nil {
			t.Fatal(err)
		}
		zw.Close()
		copyBytes(t, s3.Path("statements", "inbox/"+e.Name()+".gz"), gz.Bytes())
	}

	dir := t.TempDir()
	copyFile(t, filepath.Join(src, "open_items.csv"), filepath.Join(dir, "open_items.csv"))
	cfg := filepath.Join(dir, "remote.yaml")
	yaml := fmt.Sprintf(`log: {level: warn}
http: {listen: ""}
state: {driver: sqlite, sqlite: {path: out/state.db}}
jobs:
  - name: bank-sftp
    schedule: "@every 1h"
    source:
      type: sftp
      sftp:
        host: 127.0.0.1
        port: %d
        user: %s
        private_key_file: %s
        known_hosts: %s
        dir: outbox
        pattern: "*.xml"
        archive_dir: archive
        quarantine_dir: quarantine
    ledger: {type: file, file: {open_items: open_items.csv, journal: out/sftp/matches.csv}}
    reports: {dir: out/sftp}
    matching: {tolerances: [{currency: EUR, absolute: "5.00", percent: "0.5"}]}
  - name: bank-s3
    schedule: "@every 1h"
    source:
      type: s3
      s3:
        bucket: statements
        prefix: inbox/
        pattern: "*.xml.gz"
        region: %s
        endpoint: %s
        path_style: true
        access_key_id: ${TEST_S3_KEY}
        secret_access_key_file: %s
        archive_prefix: archive/
        quarantine_prefix: quarantine/
    ledger: {type: file, file: {open_items: open_items.csv, journal: out/s3/matches.csv}}
    reports: {dir: out/s3}
    matching: {tolerances: [{currency: EUR, absolute: "5.00", percent: "0.5"}]}
`, sshd.Port, sshd.User, sshd.ClientKey, sshd.KnownHosts, s3.Region, s3.Endpoint, filepath.Join(dir, "s3-secret"))
	if err := os.WriteFile(filepath.Join(dir, "s3-secret"), []byte(s3.SecretKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfg, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	env := []string{"TEST_S3_KEY=" + s3.AccessKey}

	if r := runBin(t, env, "check", "-c", cfg); r.code != 0 {
		t.Fatalf("check exit %d: %s", r.code, r.stderr)
	}
	// check --connect reaches both servers and changes nothing.
	r := runBin(t, env, "check", "--connect", "-c", cfg)
	want := fmt.Sprintf("%d statement file(s) listed", len(names))
	if r.code != 0 || strings.Count(r.stdout, want) != 2 || !strings.Contains(r.stdout, "open item(s)") {
		t.Fatalf("check --connect exit %d:\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	// A source that refuses the credentials: nothing can be read (exit 3).
	if bad := runBin(t, []string{"TEST_S3_KEY=WRONGKEY"}, "check", "--connect", "-c", cfg); bad.code != 3 ||
		!strings.Contains(bad.stdout, "s3 source") || !strings.Contains(bad.stdout, "FAILED") {
		t.Errorf("check --connect with a wrong S3 key: exit %d\n%s\n%s", bad.code, bad.stdout, bad.stderr)
	}
	r = runBin(t, env, "once", "-c", cfg)
	if r.code != 0 {
		t.Fatalf("once exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if strings.Contains(r.stderr+r.stdout, s3.SecretKey) {
		t.Error("the S3 secret was printed")
	}
	for _, job := range []string{"sftp", "s3"} {
		checkExampleOutputs(t, filepath.Join(dir, "out", job))
	}
	for _, n := range names {
		if _, err := os.Stat(sshd.Path("archive/" + n)); err != nil {
			t.Errorf("SFTP: %s not archived: %v", n, err)
		}
		if _, err := os.Stat(sshd.Path("outbox/" + n)); err == nil {
			t.Errorf("SFTP: %s still in the outbox", n)
		}
		if _, err := os.Stat(s3.Path("statements", "archive/"+n+".gz")); err != nil {
			t.Errorf("S3: %s.gz not archived: %v", n, err)
		}
	}

	// The bank delivers the same statements again: nothing new is lettered.
	before, _ := os.ReadFile(filepath.Join(dir, "out", "sftp", "matches.csv"))
	for _, n := range names {
		data, _ := os.ReadFile(filepath.Join(src, "statements", n))
		copyBytes(t, sshd.Path("outbox/again-"+n), data)
	}
	r = runBin(t, env, "once", "-c", cfg)
	if r.code != 0 {
		t.Fatalf("second once exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout, "0 lettered") || strings.Count(r.stdout, "0 lettered") != 2 {
		t.Errorf("second run lettered something:\n%s", r.stdout)
	}
	after, _ := os.ReadFile(filepath.Join(dir, "out", "sftp", "matches.csv"))
	if !bytes.Equal(before, after) {
		t.Error("re-delivered statements changed the SFTP job's matches.csv")
	}
}

func copyBytes(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}
