package httpx

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestEndpointValidate(t *testing.T) {
	ok := Endpoint{URL: "https://erp.example.com", Database: "prod", User: "lettrage", SecretKey: "api_key", Secret: "s3cr3t"}
	tests := []struct {
		name        string
		edit        func(*Endpoint)
		errContains []string
	}{
		{"ok", func(*Endpoint) {}, nil},
		{"secret from a file", func(e *Endpoint) { e.Secret, e.SecretFile = "", "/run/secrets/k" }, nil},
		{"nothing", func(e *Endpoint) { *e = Endpoint{SecretKey: "password"} },
			[]string{"url: required", "database: required", "user: required", "password: required (or password_file)"}},
		{"not http", func(e *Endpoint) { e.URL = "ftp://x" }, []string{`url: "ftp://x" is not an http(s) URL`}},
		{"both secrets", func(e *Endpoint) { e.SecretFile = "/f" }, []string{"api_key_file: set either api_key or api_key_file"}},
		{"negative", func(e *Endpoint) { e.PageSize, e.Timeout = -1, -time.Second },
			[]string{"page_size: must not be negative", "timeout: must not be negative"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := ok
			tt.edit(&e)
			err := errors.Join(e.Validate()...)
			if len(tt.errContains) == 0 {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			for _, want := range tt.errContains {
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Errorf("error %v lacks %q", err, want)
				}
			}
			if err != nil && strings.Contains(err.Error(), "s3cr3t") {
				t.Error("the secret is in the error")
			}
		})
	}
}
