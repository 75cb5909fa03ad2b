package config

import (
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/lettrage/lettrage/connectors"
	_ "github.com/lettrage/lettrage/connectors/all"
	"github.com/lettrage/lettrage/connectors/ledger/file"
	"github.com/lettrage/lettrage/connectors/source/local"
)

// localOf returns the source's local block (nil when it is another type).
func localOf(s Source) *local.Config {
	c, _ := s.Settings().(*local.Config)
	return c
}

// fileOf returns the ledger's file block (nil when it is another type).
func fileOf(l Ledger) *file.Config {
	c, _ := l.Settings().(*file.Config)
	return c
}

// memoConfig is the configuration of a source type only these tests
// register: what a connector added after the built-in ones goes through.
type memoConfig struct {
	Dir       string `yaml:"dir" lettrage:"path"`
	Token     string `yaml:"token"`
	TokenFile string `yaml:"token_file"`
	Limit     int    `yaml:"limit"`
}

func (c *memoConfig) Validate() error {
	var errs []error
	if c.Dir == "" {
		errs = append(errs, errors.New("dir: required"))
	}
	if c.Limit < 0 {
		errs = append(errs, errors.New("limit: must not be negative"))
	}
	return errors.Join(errs...)
}

func init() {
	connectors.Register(connectors.Sources, "memo", func(*memoConfig, connectors.SourceOptions) (connectors.StatementSource, error) {
		return nil, errors.New("not built in these tests")
	})
}

// A source type registered from outside config is decoded, resolved,
// validated and shown like the built-in ones: paths against the file's
// folder, x_file secrets, field paths in errors, secrets hidden.
func TestRegisteredTypeFromOutside(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "token.txt"), []byte("t0k3n-s3cr3t\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Parse([]byte(`
jobs:
  - name: a
    schedule: "@every 1h"
    source: {type: memo, memo: {dir: in, token_file: token.txt, limit: 3}}
    ledger: {type: file, file: {open_items: i.csv, journal: m.csv}}
`), dir)
	if err != nil {
		t.Fatal(err)
	}
	m, ok := c.Jobs[0].Source.Settings().(*memoConfig)
	if !ok {
		t.Fatalf("source settings %T, want *memoConfig", c.Jobs[0].Source.Settings())
	}
	if want := (memoConfig{Dir: filepath.Join(dir, "in"), Token: "t0k3n-s3cr3t", Limit: 3}); *m != want {
		t.Errorf("memo block %+v, want %+v", *m, want)
	}
	out := c.String()
	if strings.Contains(out, "t0k3n") || !strings.Contains(out, `"memo": {`) || !strings.Contains(out, `"token": "<redacted>"`) {
		t.Errorf("String() shows the memo block wrongly (or leaks its token):\n%s", out)
	}

	_, err = Parse([]byte(`
jobs:
  - name: a
    schedule: "@every 1h"
    source:
      type: memo
      memo: {limit: -1}
    ledger: {type: file, file: {open_items: i.csv, journal: m.csv}}
  - name: b
    schedule: "@every 1h"
    source: {type: memo, memo: {dir: in, limit: many}}
    ledger: {type: file, file: {open_items: i.csv, journal: m.csv}}
`), dir)
	for _, want := range []string{
		"jobs[0].source.memo.dir: required (line 7)",
		"jobs[0].source.memo.limit: must not be negative (line 7)",
		`jobs[1].source.memo.limit: want an integer, got "many" (line 11)`,
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

// An unknown type, or a configuration with no type, is told which types
// this program knows.
func TestUnknownTypeListsRegistered(t *testing.T) {
	_, err := Parse([]byte(`
jobs:
  - name: a
    schedule: "@every 1h"
    source: {type: ftp}
    ledger: {type: sap}
  - name: b
    schedule: "@every 1h"
    source: {local: {dir: in}}
    ledger: {type: odoo, file: {open_items: i.csv, journal: m.csv}}
`), "/base")
	for _, want := range []string{
		`jobs[0].source.type: unknown source type "ftp" (want one of local, memo, s3, sftp) (line 5)`,
		`jobs[0].ledger.type: unknown ledger type "sap" (want one of file, odoo, postgres, tryton) (line 6)`,
		`jobs[1].source.type: required (want one of local, memo, s3, sftp) (line 9)`,
		`jobs[1].source.local: set only the block of the source type ("") (line 9)`,
		`jobs[1].ledger.odoo: required for type "odoo" (line 10)`,
		`jobs[1].ledger.file: set only the block of the ledger type ("odoo") (line 10)`,
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

// A block of a type nobody registered is an unknown key; a null block is
// not set.
func TestUnregisteredAndNullBlocks(t *testing.T) {
	_, err := Parse([]byte(`
jobs:
  - name: a
    schedule: "@every 1h"
    source: {type: local, local: ~, ftp: {dir: in}}
    ledger: {type: file, file: {open_items: i.csv, journal: m.csv}, file: {journal: n.csv}}
`), "/base")
	for _, want := range []string{
		"jobs[0].source.ftp: unknown key (line 5)",
		`jobs[0].source.local: required for type "local" (line 5)`,
		"jobs[0].ledger.file: duplicate key (line 6)",
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

// The canonical form (Hash, String) shows the blocks that were fields
// before the registries as null when unset, and nothing for the types
// registered since: registering the memo source changed no hash.
func TestCanonicalBlocks(t *testing.T) {
	c, err := Parse([]byte(`
jobs: [{name: a, schedule: "@hourly", source: {type: local, local: {dir: in}}, ledger: {type: odoo, odoo: {url: "http://erp", database: x, user: u, api_key: k}}}]
`), "/base")
	if err != nil {
		t.Fatal(err)
	}
	canon := canonical(reflectValue(c)).(map[string]any)
	job := canon["jobs"].([]any)[0].(map[string]any)
	for part, want := range map[string]string{
		"source": "compression extra_xpath local max_file_bytes s3 sftp type",
		"ledger": "file odoo postgres tryton type",
	} {
		m := job[part].(map[string]any)
		var keys []string
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		if got := strings.Join(keys, " "); got != want {
			t.Errorf("canonical %s keys %q, want %q", part, got, want)
		}
	}
	if job["ledger"].(map[string]any)["file"] != nil || job["ledger"].(map[string]any)["odoo"] == nil {
		t.Errorf("canonical ledger %v: want file null and odoo set", job["ledger"])
	}
	for port, kinds := range canonicalNulls {
		reg := kindRegistry(connectors.Sources)
		if port == "ledger" {
			reg = connectors.Ledgers
		}
		for _, k := range kinds {
			if !registered(reg, k) {
				t.Errorf("canonicalNulls names %s type %q, which connectors/all does not register", port, k)
			}
		}
	}
}
