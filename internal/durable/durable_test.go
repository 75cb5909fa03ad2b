package durable

import (
	"os"
	"path/filepath"
	"testing"
)

func TestReplaceFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "sub", "report.csv")
	for _, content := range []string{"first\n", "second, longer\n"} {
		if err := ReplaceFile(p, []byte(content), 0o640); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(p)
		if err != nil || string(got) != content {
			t.Fatalf("content = %q, %v; want %q", got, err, content)
		}
	}
	st, _ := os.Stat(p)
	if st.Mode().Perm() != 0o640 {
		t.Errorf("mode = %v, want 0640", st.Mode().Perm())
	}
	entries, _ := os.ReadDir(filepath.Dir(p))
	if len(entries) != 1 {
		t.Errorf("temporary files left: %v", entries)
	}
	// A folder that cannot be created is an error naming the file.
	if err := ReplaceFile(filepath.Join(p, "x"), nil, 0o640); err == nil {
		t.Error("writing under a file succeeded")
	}
}

func TestWriteFileAndSyncDir(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "marker")
	if err := WriteFile(p, []byte("12\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(p, []byte("7\n"), 0o644); err != nil { // replaces
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(p); string(got) != "7\n" {
		t.Errorf("content = %q", got)
	}
	if err := SyncDir(dir); err != nil {
		t.Fatal(err)
	}
	if err := SyncDir(filepath.Join(dir, "missing")); err == nil {
		t.Error("syncing a missing folder succeeded")
	}
}
