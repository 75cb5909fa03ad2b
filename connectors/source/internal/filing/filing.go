// Package filing holds what every statement source does the same way when
// it files statements away: the names a clash gets, and the sidecar that
// says why a file was quarantined.
package filing

import (
	"fmt"
	"path"
	"strconv"
	"strings"
	"time"
)

// SidecarSuffix names quarantine sidecars (<name>.error.txt); sources do
// not list them as statements.
const SidecarSuffix = ".error.txt"

// MaxSuffix bounds the search for a free name in a destination.
const MaxSuffix = 10000

// Suffixed is name with ".i" before its extension (i > 0): stmt.xml,
// stmt.1.xml, stmt.2.xml… Moves never overwrite.
func Suffixed(name string, i int) string {
	if i == 0 {
		return name
	}
	ext := path.Ext(name)
	if ext == name { // ".xml"-like names have no stem
		ext = ""
	}
	return strings.TrimSuffix(name, ext) + "." + strconv.Itoa(i) + ext
}

// Sidecar is the text written beside a quarantined statement.
func Sidecar(file, source string, at time.Time, cause error) []byte {
	msg := "<no cause given>"
	if cause != nil {
		msg = cause.Error()
	}
	return fmt.Appendf(nil, "file: %s\nsource: %s\nquarantined_at: %s\ncause: %s\n",
		file, source, at.UTC().Format(time.RFC3339), msg)
}
