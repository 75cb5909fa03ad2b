package testenv

import (
	"net/http"
	"testing"
)

// TestS3 checks that the gateway answers and verifies signatures: an
// anonymous request is refused.
func TestS3(t *testing.T) {
	s := StartS3(t)
	resp, err := http.Get(s.Endpoint + "/")
	if err != nil {
		t.Fatalf("%v\n%s", err, s.LogTail())
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("anonymous request: HTTP %d, want 403", resp.StatusCode)
	}
	s.Stop()
	s.Stop() // twice is fine
	if _, err := http.Get(s.Endpoint + "/"); err == nil {
		t.Fatal("gateway still answers after Stop")
	}
}
