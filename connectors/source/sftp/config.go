package sftp

import (
	"encoding/base64"
	"errors"
	"fmt"
	"path"
	"strings"
	"time"
)

// Defaults for Config fields left at zero.
const (
	DefaultPort      = 22
	DefaultTimeout   = 30 * time.Second
	DefaultKeepAlive = 30 * time.Second
)

// Config is the `sftp` block of a job's source. Secrets come either inline
// (usually `${ENV}` expanded by the config package) or from a file
// (`*_file`, e.g. a mounted Kubernetes secret); never both. Example:
//
//	sftp:
//	  host: sftp.bank.example
//	  user: acme
//	  private_key_file: /run/secrets/bank_key
//	  known_hosts: /etc/lettrage/known_hosts   # or host_key_fingerprint: "SHA256:…"
//	  dir: /out/camt053
//	  pattern: "*.xml*"
//	  stable: {min_age: 2m, done_marker: .done}
//	  archive_dir: /out/camt053/archive
//	  quarantine_dir: /out/camt053/quarantine
//	  max_file_bytes: 536870912
//	  timeout: 30s
//	  keepalive: 30s
type Config struct {
	Host string `yaml:"host"`
	// Port defaults to 22.
	Port int    `yaml:"port"`
	User string `yaml:"user"`

	Password     string `yaml:"password"`
	PasswordFile string `yaml:"password_file"`
	// PrivateKey is an OpenSSH/PEM private key (the text itself).
	PrivateKey     string `yaml:"private_key"`
	PrivateKeyFile string `yaml:"private_key_file"`
	// Passphrase decrypts an encrypted private key.
	Passphrase     string `yaml:"passphrase"`
	PassphraseFile string `yaml:"passphrase_file"`

	// KnownHosts is the path of a known_hosts file holding the server's
	// key; HostKeyFingerprint pins it instead ("SHA256:…", as printed by
	// `ssh-keygen -lf`). One of the two is required: the host key is
	// always verified.
	KnownHosts         string `yaml:"known_hosts" lettrage:"path"`
	HostKeyFingerprint string `yaml:"host_key_fingerprint"`

	// Dir is the remote folder, absolute or relative to the login
	// folder; "" is the login folder.
	Dir string `yaml:"dir"`
	// Pattern is a glob (path.Match) on the base name; "" lists every file.
	Pattern string `yaml:"pattern"`
	// Recursive also lists sub-folders (hidden ones, the archive and the
	// quarantine folder excepted).
	Recursive bool `yaml:"recursive"`
	// Stable says when a file is completely written.
	Stable Stable `yaml:"stable"`

	// ArchiveDir receives files after a successful pass (same relative
	// path; a taken name gets a numeric suffix). DeleteAfter removes them
	// instead. With neither, files stay (the state store still prevents a
	// second processing).
	ArchiveDir  string `yaml:"archive_dir"`
	DeleteAfter bool   `yaml:"delete_after"`
	// QuarantineDir receives files that could not be read, each with a
	// sidecar <name>.error.txt; "" leaves them in place.
	QuarantineDir string `yaml:"quarantine_dir"`

	// MaxFileBytes refuses larger files (0: no limit).
	MaxFileBytes int64 `yaml:"max_file_bytes"`
	// Timeout bounds connecting (TCP + SSH handshake) and the wait for a
	// keep-alive answer. Default 30s.
	Timeout time.Duration `yaml:"timeout"`
	// KeepAlive is the interval of SSH keep-alives; a connection that
	// misses one answer is closed. Default 30s, negative disables.
	KeepAlive time.Duration `yaml:"keepalive"`
}

// Stable holds the rules that tell a complete file from one still being
// written. Several rules may be combined; all must hold.
type Stable struct {
	// MinAge skips files modified less than this long ago (server clock).
	MinAge time.Duration `yaml:"min_age"`
	// StableSize skips files whose size or modification time changed
	// since the previous listing; a file is therefore listed from the
	// second pass that sees it on.
	StableSize bool `yaml:"stable_size"`
	// DoneMarker is a suffix: "stmt.xml" is listed only once
	// "stmt.xml"+DoneMarker exists (e.g. ".done"). Markers are never
	// listed, and are removed with their file.
	DoneMarker string `yaml:"done_marker"`
}

// Validate checks the configuration without touching the network or the
// disk. The error joins one error per problem, each starting with its
// YAML key (`host: required`).
func (c *Config) Validate() error {
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if strings.TrimSpace(c.Host) == "" {
		add("host: required")
	}
	if c.Port < 0 || c.Port > 65535 {
		add("port: %d is not a TCP port", c.Port)
	}
	if strings.TrimSpace(c.User) == "" {
		add("user: required")
	}
	c.validateCredentials(add)
	c.validateHostKey(add)
	c.validateFiles(add)
	if c.MaxFileBytes < 0 {
		add("max_file_bytes: must not be negative")
	}
	if c.Timeout < 0 {
		add("timeout: must not be negative")
	}
	return errors.Join(errs...)
}

// adder records one problem of a configuration (a fmt.Errorf format).
type adder func(format string, a ...any)

// validateCredentials checks the password and the private key (each
// inline or as a file) and its passphrase.
func (c *Config) validateCredentials(add adder) {
	both := func(a, b string, va, vb string) {
		if va != "" && vb != "" {
			add("%s: set either %s or %s, not both", a, a, b)
		}
	}
	both("password", "password_file", c.Password, c.PasswordFile)
	both("private_key", "private_key_file", c.PrivateKey, c.PrivateKeyFile)
	both("passphrase", "passphrase_file", c.Passphrase, c.PassphraseFile)
	hasKey := c.PrivateKey != "" || c.PrivateKeyFile != ""
	if !hasKey && c.Password == "" && c.PasswordFile == "" {
		add("private_key: required (or private_key_file, password, password_file)")
	}
	if !hasKey && (c.Passphrase != "" || c.PassphraseFile != "") {
		add("passphrase: set without a private_key")
	}
}

// validateHostKey checks that the server's host key is verified, one way.
func (c *Config) validateHostKey(add adder) {
	switch {
	case c.KnownHosts == "" && c.HostKeyFingerprint == "":
		add("known_hosts: required (or host_key_fingerprint): the host key is always verified")
	case c.KnownHosts != "" && c.HostKeyFingerprint != "":
		add("known_hosts: set either known_hosts or host_key_fingerprint, not both")
	case c.HostKeyFingerprint != "":
		if err := checkFingerprint(c.HostKeyFingerprint); err != nil {
			add("host_key_fingerprint: %w", err)
		}
	}
}

// validateFiles checks which files are read and where they are filed.
func (c *Config) validateFiles(add adder) {
	if c.Pattern != "" {
		if _, err := path.Match(c.Pattern, ""); err != nil {
			add("pattern: invalid glob %q: %w", c.Pattern, err)
		}
		if strings.Contains(c.Pattern, "/") {
			add("pattern: %q must match a base name, without '/'", c.Pattern)
		}
	}
	if c.Stable.MinAge < 0 {
		add("stable.min_age: must not be negative")
	}
	if m := c.Stable.DoneMarker; m != "" && (strings.Contains(m, "/") || strings.TrimSpace(m) != m) {
		add("stable.done_marker: %q must be a plain suffix such as \".done\"", m)
	}
	dir := cleanDir(c.Dir)
	if c.ArchiveDir != "" {
		if c.DeleteAfter {
			add("archive_dir: set either archive_dir or delete_after, not both")
		}
		if cleanDir(c.ArchiveDir) == dir {
			add("archive_dir: must differ from dir")
		}
	}
	if c.QuarantineDir != "" && cleanDir(c.QuarantineDir) == dir {
		add("quarantine_dir: must differ from dir")
	}
}

func cleanDir(d string) string {
	if d == "" {
		return "."
	}
	return path.Clean(d)
}

// checkFingerprint accepts "SHA256:" + unpadded base64 of 32 bytes.
func checkFingerprint(fp string) error {
	b64, ok := strings.CutPrefix(fp, "SHA256:")
	if !ok {
		return fmt.Errorf("%q must start with SHA256: (ssh-keygen -lf prints it)", fp)
	}
	raw, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(b64, "="))
	if err != nil || len(raw) != 32 {
		return fmt.Errorf("%q is not a SHA256 fingerprint", fp)
	}
	return nil
}

func (c *Config) withDefaults() Config {
	out := *c
	if out.Port == 0 {
		out.Port = DefaultPort
	}
	if out.Timeout == 0 {
		out.Timeout = DefaultTimeout
	}
	if out.KeepAlive == 0 {
		out.KeepAlive = DefaultKeepAlive
	}
	out.Dir = cleanDir(out.Dir)
	return out
}
