package s3

import (
	"errors"
	"fmt"
	"net/url"
	"path"
	"strings"
)

// The values of Config.After.
const (
	AfterLeave   = "leave"   // leave the object (the state store prevents a second processing)
	AfterArchive = "archive" // copy to archive_prefix, then delete
	AfterDelete  = "delete"  // delete
	AfterTag     = "tag"     // add the tag tag_key=tag_value
)

// Defaults for the tag written by After "tag".
const (
	DefaultTagKey   = "lettrage"
	DefaultTagValue = "processed"
)

// Config is the `s3` block of a job's source. Without static keys the
// standard AWS credential chain applies: environment, shared
// config/credentials files (profile), web identity (Kubernetes IRSA),
// container and instance roles. Example:
//
//	s3:
//	  bucket: acme-bank-statements
//	  prefix: in/
//	  pattern: "*.xml*"
//	  region: eu-west-3
//	  # endpoint: https://s3.gra.io.cloud.ovh.net   (S3-compatible stores)
//	  # path_style: true
//	  sse: aws:kms
//	  after: archive
//	  archive_prefix: archive/
//	  quarantine_prefix: quarantine/
//	  max_file_bytes: 536870912
type Config struct {
	Bucket string `yaml:"bucket"`
	// Prefix restricts the listing to keys starting with it ("in/").
	Prefix string `yaml:"prefix"`
	// Pattern is a glob (path.Match) on the last segment of the key.
	Pattern string `yaml:"pattern"`
	// Recursive also lists keys in "sub-folders" below the prefix;
	// otherwise only keys without a further "/" are listed.
	Recursive bool `yaml:"recursive"`

	// Region is required unless the chain provides one (AWS_REGION) or an
	// endpoint is set (then it defaults to us-east-1).
	Region string `yaml:"region"`
	// Endpoint is the URL of an S3-compatible store (OVHcloud, Scaleway,
	// Ceph, MinIO…); PathStyle addresses buckets as endpoint/bucket
	// instead of bucket.endpoint, which most such stores need.
	Endpoint  string `yaml:"endpoint"`
	PathStyle bool   `yaml:"path_style"`

	AccessKeyID         string `yaml:"access_key_id"`
	AccessKeyIDFile     string `yaml:"access_key_id_file"`
	SecretAccessKey     string `yaml:"secret_access_key"`
	SecretAccessKeyFile string `yaml:"secret_access_key_file"`
	// Profile selects a profile of the shared config files.
	Profile string `yaml:"profile"`

	// SSE is the server-side encryption of the objects the source writes
	// (archive and quarantine copies, sidecars): "", "AES256" or
	// "aws:kms" (with SSEKMSKeyID, or the bucket's default KMS key).
	SSE         string `yaml:"sse"`
	SSEKMSKeyID string `yaml:"sse_kms_key_id"`

	// After says what happens to an object after a successful pass:
	// "archive", "delete", "tag" or "leave". Default: "archive" when
	// archive_prefix is set, else "leave".
	After         string `yaml:"after"`
	ArchivePrefix string `yaml:"archive_prefix"`
	TagKey        string `yaml:"tag_key"`
	TagValue      string `yaml:"tag_value"`
	// QuarantinePrefix receives objects that could not be read, each with
	// a sidecar <key>.error.txt; "" leaves them in place.
	QuarantinePrefix string `yaml:"quarantine_prefix"`

	// MaxFileBytes refuses larger objects (0: no limit).
	MaxFileBytes int64 `yaml:"max_file_bytes"`
}

// Validate checks the configuration without touching the network or the
// disk. The error joins one error per problem, each starting with its
// YAML key (`bucket: required`).
func (c *Config) Validate() error {
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	c.validateWhere(add)
	c.validateCredentials(add)
	c.validateEncryption(add)
	c.validateAfter(add)
	if c.MaxFileBytes < 0 {
		add("max_file_bytes: must not be negative")
	}
	return errors.Join(errs...)
}

// adder records one problem of a configuration (a fmt.Errorf format).
type adder func(format string, a ...any)

// validateWhere checks the bucket, the pattern and the endpoint.
func (c *Config) validateWhere(add adder) {
	if strings.TrimSpace(c.Bucket) == "" {
		add("bucket: required")
	} else if strings.ContainsAny(c.Bucket, "/ ") {
		add("bucket: %q is a bucket name, without '/' (use prefix for folders)", c.Bucket)
	}
	if c.Pattern != "" {
		if _, err := path.Match(c.Pattern, ""); err != nil {
			add("pattern: invalid glob %q: %w", c.Pattern, err)
		}
		if strings.Contains(c.Pattern, "/") {
			add("pattern: %q must match the last segment of a key, without '/'", c.Pattern)
		}
	}
	if c.Endpoint != "" {
		u, err := url.Parse(c.Endpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			add("endpoint: %q must be an http(s) URL", c.Endpoint)
		}
	}
}

// validateCredentials checks the static keys (each inline or as a file,
// both or none) against the profile.
func (c *Config) validateCredentials(add adder) {
	both := func(a, b, va, vb string) {
		if va != "" && vb != "" {
			add("%s: set either %s or %s, not both", a, a, b)
		}
	}
	both("access_key_id", "access_key_id_file", c.AccessKeyID, c.AccessKeyIDFile)
	both("secret_access_key", "secret_access_key_file", c.SecretAccessKey, c.SecretAccessKeyFile)
	hasID := c.AccessKeyID != "" || c.AccessKeyIDFile != ""
	hasSecret := c.SecretAccessKey != "" || c.SecretAccessKeyFile != ""
	if hasID != hasSecret {
		add("access_key_id: static keys need both access_key_id and secret_access_key")
	}
	if hasID && c.Profile != "" {
		add("profile: set either static keys or profile, not both")
	}
}

// validateEncryption checks the server-side encryption settings.
func (c *Config) validateEncryption(add adder) {
	switch c.SSE {
	case "", "AES256":
		if c.SSEKMSKeyID != "" {
			add("sse_kms_key_id: only with sse: aws:kms")
		}
	case "aws:kms":
	default:
		add("sse: %q must be AES256 or aws:kms", c.SSE)
	}
}

// validateAfter checks what happens to a statement once read, and the
// prefixes it uses.
func (c *Config) validateAfter(add adder) {
	switch c.after() {
	case AfterArchive:
		if c.ArchivePrefix == "" {
			add("archive_prefix: required with after: archive")
		}
	case AfterLeave, AfterDelete, AfterTag:
		if c.ArchivePrefix != "" {
			add("archive_prefix: only with after: archive (after is %q)", c.After)
		}
	default:
		add("after: %q must be archive, delete, tag or leave", c.After)
	}
	if (c.TagKey != "" || c.TagValue != "") && c.after() != AfterTag {
		add("tag_key: only with after: tag")
	}
	if c.ArchivePrefix != "" && c.ArchivePrefix == c.Prefix {
		add("archive_prefix: must differ from prefix")
	}
	if c.QuarantinePrefix != "" && c.QuarantinePrefix == c.Prefix {
		add("quarantine_prefix: must differ from prefix")
	}
}

func (c *Config) after() string {
	if c.After == "" {
		if c.ArchivePrefix != "" {
			return AfterArchive
		}
		return AfterLeave
	}
	return c.After
}
