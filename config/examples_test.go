package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// exampleEnv holds every environment variable the shipped examples use.
var exampleEnv = map[string]string{
	"LETTRAGE_SFTP_HOST":        "sftp.bank.example",
	"LETTRAGE_SFTP_FINGERPRINT": "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU",
	"LETTRAGE_S3_ACCESS_KEY_ID": "AKIAEXAMPLE",
	"LETTRAGE_ERP_DSN":          "postgres://lettrage:pw@erp-db:5432/erp?sslmode=disable",
	"LETTRAGE_ODOO_DB":          "prod",
}

// secretsDir is where the examples mount their secrets.
const secretsDir = "/run/secrets/lettrage/"

// TestExamplesParse loads every deploy/examples/*.yaml: each must parse and
// validate with the documented environment and secret files, use the ledger
// (and source) its name says, and use only variables the test knows.
func TestExamplesParse(t *testing.T) {
	dir := filepath.Join("..", "deploy", "examples")
	paths, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(paths)
	names := map[string]bool{}
	for _, p := range paths {
		names[strings.TrimSuffix(filepath.Base(p), ".yaml")] = true
	}
	for _, want := range []string{"local", "sftp", "s3", "postgres", "tryton", "odoo"} {
		if !names[want] {
			t.Errorf("deploy/examples/%s.yaml is missing", want)
		}
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	varRE := regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)(:-[^}]*)?\}`)
	var secretsRead []string
	readFile := func(path string) ([]byte, error) {
		if strings.HasPrefix(path, secretsDir) {
			secretsRead = append(secretsRead, path)
			return []byte("secret-of-" + filepath.Base(path) + "\n"), nil
		}
		return os.ReadFile(path)
	}
	for _, p := range paths {
		name := strings.TrimSuffix(filepath.Base(p), ".yaml")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range varRE.FindAllStringSubmatch(withoutComments(string(data)), -1) {
				if _, ok := exampleEnv[m[1]]; !ok && m[2] == "" {
					t.Errorf("uses ${%s} without a default; add it to exampleEnv and document it", m[1])
				}
			}
			secretsRead = nil
			c, err := parse(data, abs, func(k string) (string, bool) { v, ok := exampleEnv[k]; return v, ok }, readFile)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if len(c.Jobs) == 0 {
				t.Fatal("no job")
			}
			j := c.Jobs[0]
			switch name {
			case "local", "sftp", "s3":
				if j.Source.Type != name && name != "local" || j.Ledger.Type != "file" {
					t.Errorf("source %s, ledger %s; want source %s, file ledger", j.Source.Type, j.Ledger.Type, name)
				}
			default:
				if j.Ledger.Type != name {
					t.Errorf("ledger type %q, want %q", j.Ledger.Type, name)
				}
			}
			// Secrets come from files or the environment, never from the YAML.
			for _, s := range secretsRead {
				if !strings.HasPrefix(s, secretsDir) {
					t.Errorf("secret read from %s", s)
				}
			}
			if name != "local" && len(secretsRead) == 0 {
				t.Error("no secret read from a mounted file: show how secrets are passed")
			}
			if strings.Contains(c.String(), "secret-of-") {
				t.Error("a secret shows in the effective configuration")
			}
		})
	}
}

// TestExamplesFailWithoutTheirVariables proves the test above would see a
// missing variable: without the environment, the examples that use
// variables without defaults do not load.
func TestExamplesFailWithoutTheirVariables(t *testing.T) {
	dir := filepath.Join("..", "deploy", "examples")
	failed := 0
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() && p != dir {
			if d != nil && d.IsDir() {
				return filepath.SkipDir
			}
			return err
		}
		if filepath.Ext(p) != ".yaml" {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if !strings.Contains(string(data), "${LETTRAGE_") {
			return nil
		}
		_, perr := parse(data, "/", func(string) (string, bool) { return "", false },
			func(string) ([]byte, error) { return []byte("x"), nil })
		if perr == nil || !strings.Contains(perr.Error(), "LETTRAGE_") {
			return fmt.Errorf("%s loads without its variables: %v", p, perr)
		}
		var ve *ValidationError
		if !errors.As(perr, &ve) {
			return fmt.Errorf("%s: %v is not a ValidationError", p, perr)
		}
		failed++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if failed < 4 {
		t.Errorf("only %d examples use variables without defaults; expected the remote ones to", failed)
	}
}

// withoutComments drops YAML comments (the examples put no # in values).
func withoutComments(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if j := strings.Index(l, "#"); j >= 0 {
			lines[i] = l[:j]
		}
	}
	return strings.Join(lines, "\n")
}
