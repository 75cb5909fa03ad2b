// Package secret reads a connector's secret given inline or as a file (the
// `x` / `x_file` pair of the configuration), for connectors built without
// the config package (which resolves `x_file` itself).
package secret

import (
	"fmt"
	"os"
	"strings"
)

// Read returns inline, or the content of file (one trailing newline, LF or
// CRLF, removed) when file is set. key names the setting in errors; the
// secret itself never appears in them.
func Read(key, inline, file string) (string, error) {
	if file == "" {
		return inline, nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("%s_file: reading: %w", key, err)
	}
	return strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r"), nil
}
