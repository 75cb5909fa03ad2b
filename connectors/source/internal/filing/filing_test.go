package filing

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestSuffixed(t *testing.T) {
	for _, tc := range []struct {
		name string
		i    int
		want string
	}{
		{"stmt.xml", 0, "stmt.xml"},
		{"stmt.xml", 1, "stmt.1.xml"},
		{"stmt.xml.gz", 2, "stmt.xml.2.gz"},
		{"dir/stmt", 3, "dir/stmt.3"},
		{".xml", 1, ".xml.1"},
	} {
		if got := Suffixed(tc.name, tc.i); got != tc.want {
			t.Errorf("Suffixed(%q, %d) = %q, want %q", tc.name, tc.i, got, tc.want)
		}
	}
}

func TestSidecar(t *testing.T) {
	at := time.Date(2026, 11, 23, 10, 0, 0, 0, time.FixedZone("CET", 3600))
	got := string(Sidecar("in/a.xml", "job/sftp", at, errors.New("reading: truncated")))
	want := "file: in/a.xml\nsource: job/sftp\nquarantined_at: 2026-11-23T09:00:00Z\ncause: reading: truncated\n"
	if got != want {
		t.Errorf("Sidecar = %q, want %q", got, want)
	}
	if !strings.Contains(string(Sidecar("a", "s", at, nil)), "<no cause given>") {
		t.Error("nil cause not said")
	}
}
