package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestHashPinned pins the hash of the good fixtures, read as if from
// /fixed/config/testdata/good (paths resolve the same in every checkout),
// to the values the configuration had before the connector registries
// (main at 311da2b). The hash is recorded in the audit trail and in the
// incremental passes' fingerprint: a change re-examines every exception
// once after an upgrade, so it must be deliberate. Change a fixture, and
// its value here, together.
func TestHashPinned(t *testing.T) {
	setTestEnv(t)
	const base = "/fixed/config/testdata/good"
	readFile := func(path string) ([]byte, error) {
		if rest, ok := strings.CutPrefix(path, "/fixed/config/"); ok {
			return os.ReadFile(filepath.FromSlash(rest))
		}
		return os.ReadFile(path)
	}
	for name, want := range map[string]string{
		"full.yaml":    "78e8d0e8bd25022e5cfc25b79d1e7ad45934ce8a19e572375db763b8458a1117",
		"minimal.yaml": "cf881a5f7b6a96c7cfb7801d374ef1a3b622c7bb6f50e2686992f3ea1680b7cc",
	} {
		data, err := os.ReadFile(filepath.Join("testdata", "good", name))
		if err != nil {
			t.Fatal(err)
		}
		c, err := parse(data, base, os.LookupEnv, readFile)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got := c.Hash(); got != want {
			t.Errorf("%s: hash %s, want %s (the hash of every deployed configuration would change)", name, got, want)
		}
	}
}

// TestNewKeysHashedWhenSet: a setting added after the pin is left out of
// the hash only at its default; set, it changes the hash.
func TestNewKeysHashedWhenSet(t *testing.T) {
	setTestEnv(t)
	data, err := os.ReadFile(filepath.Join("testdata", "good", "minimal.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := parse(data, "/fixed/config/testdata/good", os.LookupEnv, os.ReadFile)
	if err != nil {
		t.Fatal(err)
	}
	before := c.Hash()
	c.State.RetentionDays = 400
	if c.Hash() == before {
		t.Error("state.retention_days: 400 left the hash unchanged")
	}
	c.State.RetentionDays = 0
	if c.Hash() != before {
		t.Error("state.retention_days back to 0 did not give the hash back")
	}
}
