package sftp

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestValidate(t *testing.T) {
	ok := func() Config {
		return Config{Host: "sftp.bank.example", User: "acme", PrivateKeyFile: "/k", KnownHosts: "/kh", Dir: "/in"}
	}
	tests := []struct {
		name        string
		mutate      func(*Config)
		errContains []string
	}{
		{name: "ok", mutate: func(*Config) {}},
		{name: "ok with password and fingerprint", mutate: func(c *Config) {
			c.PrivateKeyFile, c.KnownHosts, c.Password = "", "", "x"
			c.HostKeyFingerprint = "SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8"
		}},
		{name: "empty", mutate: func(c *Config) { *c = Config{} }, errContains: []string{
			"host: required", "user: required", "private_key: required", "known_hosts: required (or host_key_fingerprint)"}},
		{name: "bad port", mutate: func(c *Config) { c.Port = 70000 }, errContains: []string{"port: 70000 is not a TCP port"}},
		{name: "both key forms", mutate: func(c *Config) { c.PrivateKey = "x" }, errContains: []string{"private_key: set either private_key or private_key_file"}},
		{name: "both passwords", mutate: func(c *Config) { c.Password, c.PasswordFile = "a", "b" }, errContains: []string{"password: set either"}},
		{name: "passphrase without key", mutate: func(c *Config) { c.PrivateKeyFile, c.Password, c.Passphrase = "", "p", "x" }, errContains: []string{"passphrase: set without a private_key"}},
		{name: "both host key forms", mutate: func(c *Config) { c.HostKeyFingerprint = "SHA256:x" }, errContains: []string{"known_hosts: set either"}},
		{name: "md5 fingerprint", mutate: func(c *Config) { c.KnownHosts, c.HostKeyFingerprint = "", "MD5:aa:bb" }, errContains: []string{"host_key_fingerprint: \"MD5:aa:bb\" must start with SHA256:"}},
		{name: "short fingerprint", mutate: func(c *Config) { c.KnownHosts, c.HostKeyFingerprint = "", "SHA256:abcd" }, errContains: []string{"host_key_fingerprint: \"SHA256:abcd\" is not a SHA256 fingerprint"}},
		{name: "bad glob", mutate: func(c *Config) { c.Pattern = "[" }, errContains: []string{"pattern: invalid glob"}},
		{name: "glob with slash", mutate: func(c *Config) { c.Pattern = "in/*.xml" }, errContains: []string{"pattern: \"in/*.xml\" must match a base name"}},
		{name: "negative min age", mutate: func(c *Config) { c.Stable.MinAge = -1 }, errContains: []string{"stable.min_age: must not be negative"}},
		{name: "marker with slash", mutate: func(c *Config) { c.Stable.DoneMarker = "/done" }, errContains: []string{"stable.done_marker"}},
		{name: "archive and delete", mutate: func(c *Config) { c.ArchiveDir, c.DeleteAfter = "/arch", true }, errContains: []string{"archive_dir: set either archive_dir or delete_after"}},
		{name: "archive is dir", mutate: func(c *Config) { c.ArchiveDir = "/in/" }, errContains: []string{"archive_dir: must differ from dir"}},
		{name: "quarantine is dir", mutate: func(c *Config) { c.Dir, c.QuarantineDir = "", "." }, errContains: []string{"quarantine_dir: must differ from dir"}},
		{name: "negative sizes", mutate: func(c *Config) { c.MaxFileBytes, c.Timeout = -1, -1 }, errContains: []string{"max_file_bytes: must not be negative", "timeout: must not be negative"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ok()
			tt.mutate(&c)
			err := c.Validate()
			if len(tt.errContains) == 0 {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			for _, want := range tt.errContains {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
		})
	}
}

func TestNewErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	kh := write("known_hosts", "")
	secretPassword := "s3cr3t-never-logged"
	tests := []struct {
		name        string
		cfg         Config
		errContains string
	}{
		{name: "missing key file", cfg: Config{Host: "h", User: "u", PrivateKeyFile: filepath.Join(dir, "nope"), KnownHosts: kh},
			errContains: "private_key_file: reading"},
		{name: "garbage key", cfg: Config{Host: "h", User: "u", PrivateKey: "not a key " + secretPassword, KnownHosts: kh},
			errContains: "private_key: parsing"},
		{name: "encrypted key without passphrase", cfg: Config{Host: "h", User: "u", PrivateKey: encryptedKey(t, "pw"), KnownHosts: kh},
			errContains: "private_key: the key is encrypted: set passphrase"},
		{name: "wrong passphrase", cfg: Config{Host: "h", User: "u", PrivateKey: encryptedKey(t, "pw"), Passphrase: "nope", KnownHosts: kh},
			errContains: "private_key: parsing"},
		{name: "missing known_hosts", cfg: Config{Host: "h", User: "u", Password: secretPassword, KnownHosts: filepath.Join(dir, "nope")},
			errContains: "known_hosts: reading"},
		{name: "missing password file", cfg: Config{Host: "h", User: "u", PasswordFile: filepath.Join(dir, "nope"), KnownHosts: kh},
			errContains: "password_file: reading"},
		{name: "invalid", cfg: Config{}, errContains: `configuring sftp source "bank": host: required`},
		{name: "ok", cfg: Config{Host: "h", User: "u", PasswordFile: write("pw", secretPassword+"\n"), KnownHosts: kh}},
		{name: "ok encrypted key", cfg: Config{Host: "h", User: "u", PrivateKey: encryptedKey(t, "pw"), PassphraseFile: write("pp", "pw\n"), KnownHosts: kh}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New("bank", tt.cfg)
			if tt.errContains == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.errContains) {
				t.Fatalf("error %v does not contain %q", err, tt.errContains)
			}
			if strings.Contains(err.Error(), secretPassword) {
				t.Fatalf("error leaks the secret: %v", err)
			}
		})
	}
}

func TestBackoff(t *testing.T) {
	s := &Source{backoffBase: time.Second, backoffMax: 5 * time.Second}
	for attempt, want := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 3: 4 * time.Second, 4: 5 * time.Second, 40: 5 * time.Second} {
		for range 50 {
			got := s.backoff(attempt)
			if got < want/2 || got > want*3/2 {
				t.Fatalf("backoff(%d) = %v, want %v ±50%%", attempt, got, want)
			}
		}
	}
}
