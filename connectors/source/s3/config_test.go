package s3

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		name        string
		cfg         Config
		errContains []string
	}{
		{name: "minimal", cfg: Config{Bucket: "statements"}},
		{name: "full", cfg: Config{Bucket: "statements", Prefix: "in/", Pattern: "*.xml", Endpoint: "https://s3.gra.io.cloud.ovh.net", PathStyle: true,
			AccessKeyIDFile: "/run/secrets/id", SecretAccessKeyFile: "/run/secrets/key", SSE: "aws:kms", SSEKMSKeyID: "arn:aws:kms:eu-west-3:1:key/x",
			After: "archive", ArchivePrefix: "archive/", QuarantinePrefix: "quarantine/", MaxFileBytes: 1 << 30}},
		{name: "archive implied by prefix", cfg: Config{Bucket: "b", ArchivePrefix: "done/"}},
		{name: "tag", cfg: Config{Bucket: "b", After: "tag", TagKey: "status", TagValue: "lettered"}},
		{name: "empty", cfg: Config{}, errContains: []string{"bucket: required"}},
		{name: "bucket with slash", cfg: Config{Bucket: "b/in"}, errContains: []string{`bucket: "b/in" is a bucket name`}},
		{name: "bad glob", cfg: Config{Bucket: "b", Pattern: "["}, errContains: []string{"pattern: invalid glob"}},
		{name: "glob with slash", cfg: Config{Bucket: "b", Pattern: "in/*.xml"}, errContains: []string{"pattern: \"in/*.xml\" must match the last segment"}},
		{name: "endpoint without scheme", cfg: Config{Bucket: "b", Endpoint: "s3.example.com"}, errContains: []string{"endpoint: \"s3.example.com\" must be an http(s) URL"}},
		{name: "both key forms", cfg: Config{Bucket: "b", AccessKeyID: "a", AccessKeyIDFile: "f", SecretAccessKey: "s"}, errContains: []string{"access_key_id: set either access_key_id or access_key_id_file"}},
		{name: "id without secret", cfg: Config{Bucket: "b", AccessKeyID: "a"}, errContains: []string{"access_key_id: static keys need both"}},
		{name: "keys and profile", cfg: Config{Bucket: "b", AccessKeyID: "a", SecretAccessKey: "s", Profile: "p"}, errContains: []string{"profile: set either static keys or profile"}},
		{name: "bad sse", cfg: Config{Bucket: "b", SSE: "aes256"}, errContains: []string{`sse: "aes256" must be AES256 or aws:kms`}},
		{name: "kms key without kms", cfg: Config{Bucket: "b", SSE: "AES256", SSEKMSKeyID: "k"}, errContains: []string{"sse_kms_key_id: only with sse: aws:kms"}},
		{name: "archive without prefix", cfg: Config{Bucket: "b", After: "archive"}, errContains: []string{"archive_prefix: required with after: archive"}},
		{name: "archive prefix with delete", cfg: Config{Bucket: "b", After: "delete", ArchivePrefix: "a/"}, errContains: []string{"archive_prefix: only with after: archive"}},
		{name: "bad after", cfg: Config{Bucket: "b", After: "move"}, errContains: []string{`after: "move" must be archive, delete, tag or leave`}},
		{name: "tag key without tag", cfg: Config{Bucket: "b", TagKey: "k"}, errContains: []string{"tag_key: only with after: tag"}},
		{name: "archive is prefix", cfg: Config{Bucket: "b", Prefix: "in/", ArchivePrefix: "in/"}, errContains: []string{"archive_prefix: must differ from prefix"}},
		{name: "quarantine is prefix", cfg: Config{Bucket: "b", Prefix: "in/", QuarantinePrefix: "in/"}, errContains: []string{"quarantine_prefix: must differ from prefix"}},
		{name: "negative size", cfg: Config{Bucket: "b", MaxFileBytes: -1}, errContains: []string{"max_file_bytes: must not be negative"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
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

// isolateAWS hides the machine's AWS settings from the credential chain.
func isolateAWS(t *testing.T) string {
	dir := t.TempDir()
	for _, k := range []string{"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN"} {
		t.Setenv(k, "")
	}
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	return dir
}

func TestNewErrors(t *testing.T) {
	dir := isolateAWS(t)
	tests := []struct {
		name        string
		cfg         Config
		errContains string
	}{
		{name: "invalid", cfg: Config{}, errContains: `configuring s3 source "bucket": bucket: required`},
		{name: "missing key file", cfg: Config{Bucket: "b", Region: "eu-west-3", AccessKeyIDFile: filepath.Join(dir, "nope"), SecretAccessKey: "s"}, errContains: "access_key_id_file: reading"},
		{name: "missing secret file", cfg: Config{Bucket: "b", Region: "eu-west-3", AccessKeyID: "a", SecretAccessKeyFile: filepath.Join(dir, "nope")}, errContains: "secret_access_key_file: reading"},
		{name: "no region on AWS", cfg: Config{Bucket: "b"}, errContains: "region: required"},
		{name: "unknown profile", cfg: Config{Bucket: "b", Region: "eu-west-3", Profile: "nope"}, errContains: "loading the AWS configuration"},
		{name: "endpoint defaults the region", cfg: Config{Bucket: "b", Endpoint: "http://127.0.0.1:1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New("bucket", tt.cfg)
			if tt.errContains == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.errContains) {
				t.Fatalf("error %v does not contain %q", err, tt.errContains)
			}
		})
	}
}

// TestCredentialChain: without static keys, the standard chain finds the
// keys in the environment or in a shared profile.
func TestCredentialChain(t *testing.T) {
	g := gateway(t)
	name, _ := bucket(t, g, map[string]string{"a.xml": "A"})
	t.Run("environment", func(t *testing.T) {
		isolateAWS(t)
		t.Setenv("AWS_ACCESS_KEY_ID", g.AccessKey)
		t.Setenv("AWS_SECRET_ACCESS_KEY", g.SecretKey)
		src, err := New("bucket", Config{Bucket: name, Endpoint: g.Endpoint, PathStyle: true})
		if err != nil {
			t.Fatal(err)
		}
		if refs, err := src.List(context.Background()); err != nil || paths(refs) != "a.xml" {
			t.Fatalf("got %q, %v", paths(refs), err)
		}
	})
	t.Run("profile", func(t *testing.T) {
		dir := isolateAWS(t)
		if err := os.WriteFile(filepath.Join(dir, "config"), []byte("[profile bank]\nregion = "+g.Region+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		creds := "[bank]\naws_access_key_id = " + g.AccessKey + "\naws_secret_access_key = " + g.SecretKey + "\n"
		if err := os.WriteFile(filepath.Join(dir, "credentials"), []byte(creds), 0o600); err != nil {
			t.Fatal(err)
		}
		src, err := New("bucket", Config{Bucket: name, Endpoint: g.Endpoint, PathStyle: true, Profile: "bank"})
		if err != nil {
			t.Fatal(err)
		}
		if refs, err := src.List(context.Background()); err != nil || paths(refs) != "a.xml" {
			t.Fatalf("got %q, %v", paths(refs), err)
		}
	})
	t.Run("nothing", func(t *testing.T) {
		isolateAWS(t)
		src, err := New("bucket", Config{Bucket: name, Endpoint: g.Endpoint, PathStyle: true})
		if err != nil {
			t.Fatal(err)
		}
		_, err = src.List(context.Background())
		if err == nil || !strings.Contains(err.Error(), "no credentials found") {
			t.Fatalf("got %v, want a clear missing-credentials error", err)
		}
	})
}

func TestEscapeKey(t *testing.T) {
	for key, want := range map[string]string{
		"in/a.xml": "in/a.xml", "in/odd name+ü.xml": "in/odd%20name%2B%C3%BC.xml", "a?b#c": "a%3Fb%23c",
	} {
		if got := escapeKey(key); got != want {
			t.Errorf("escapeKey(%q) = %q, want %q", key, got, want)
		}
	}
}
