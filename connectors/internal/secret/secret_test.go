package secret

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRead(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{"lf": "s3cr3t\n", "crlf": "s3cr3t\r\n", "none": "s3cr3t", "two": "s3cr3t\n\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		inline, file, want, errContains string
	}{
		{inline: "inline", want: "inline"},
		{file: "lf", want: "s3cr3t"},
		{file: "crlf", want: "s3cr3t"},
		{file: "none", want: "s3cr3t"},
		{file: "two", want: "s3cr3t\n"}, // only one newline is removed
		{file: "missing", errContains: "password_file: reading"},
	}
	for _, tt := range tests {
		file := ""
		if tt.file != "" {
			file = filepath.Join(dir, tt.file)
		}
		got, err := Read("password", tt.inline, file)
		if tt.errContains != "" {
			if err == nil || !strings.Contains(err.Error(), tt.errContains) {
				t.Errorf("Read(%q) error = %v, want %q", tt.file, err, tt.errContains)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("Read(%q, %q) = %q, %v; want %q", tt.inline, tt.file, got, err, tt.want)
		}
	}
}
