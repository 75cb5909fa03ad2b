package camt

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestXSDGenFound replays the minimal documents of testdata/xsdgen-found
// (see its README): each is valid camt.053.001.08 (checked with xmllint
// when it is installed) and the reader must accept it.
func TestXSDGenFound(t *testing.T) {
	files, err := filepath.Glob("testdata/xsdgen-found/*.xml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no documents in testdata/xsdgen-found (%v)", err)
	}
	xmllint, _ := findXmllint()
	dir, dirErr := moovSpecDir()
	if xmllint != "" && dirErr == nil {
		bad, err := xmllintBatch(xmllint, xsdPath(dir, "camt.053"), files)
		if err != nil {
			t.Fatal(err)
		}
		for f, msgs := range bad {
			t.Errorf("%s is not valid camt.053.001.08: %s", f, strings.Join(msgs, "; "))
		}
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := ReadAll(bytes.NewReader(data), filepath.Base(f), DefaultOptions()); err != nil {
				t.Errorf("valid document refused: %v", err)
			}
		})
	}
}
