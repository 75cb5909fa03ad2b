package camt

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/lettrage/lettrage/domain"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

const corpusDir = "../../testdata/camt"

// negatives are corpus files that must fail, with the sentinel they must
// fail with (SOURCES.md marks them NEGATIVE).
var negatives = map[string]error{
	"genkgo-camt/camt053.v2.wrong.xml": ErrNoStatement,
}

// corpusFiles lists every statement file of the shared corpus (everything
// but LICENSE and SOURCES.md), relative to corpusDir.
func corpusFiles(t testing.TB) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(corpusDir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || d.Name() == "LICENSE" || strings.HasSuffix(d.Name(), ".md") {
			return nil
		}
		rel, err := filepath.Rel(corpusDir, p)
		if err != nil {
			return err
		}
		out = append(out, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		t.Fatalf("walking corpus: %v", err)
	}
	if len(out) < 61 {
		t.Fatalf("corpus has %d files, want at least 61", len(out))
	}
	return out
}

// handmadeDir holds the files written or adapted by this project (see its
// SOURCES.md): listed by testFiles as "handmade/<name>".
const handmadeDir = "testdata/handmade"

// testFiles lists the corpus files and the hand-made ones.
func testFiles(t testing.TB) []string {
	t.Helper()
	out := corpusFiles(t)
	ents, err := os.ReadDir(handmadeDir)
	if err != nil {
		t.Fatalf("listing hand-made files: %v", err)
	}
	for _, e := range ents {
		if e.IsDir() || strings.HasSuffix(e.Name(), ".md") {
			continue
		}
		out = append(out, "handmade/"+e.Name())
	}
	return out
}

// readCorpus reads a file listed by corpusFiles or testFiles.
func readCorpus(t testing.TB, rel string) []byte {
	t.Helper()
	path := filepath.Join(corpusDir, rel)
	if name, ok := strings.CutPrefix(rel, "handmade/"); ok {
		path = filepath.Join(handmadeDir, name)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func renderJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

// TestGolden parses every corpus and hand-made file and compares a JSON rendering of the
// whole document (model, checks and projected transactions) with
// testdata/golden/<folder>/<file>.json. Run with -update to regenerate, then
// review the diff.
func TestGolden(t *testing.T) {
	for _, rel := range testFiles(t) {
		t.Run(rel, func(t *testing.T) {
			data := readCorpus(t, rel)
			doc, err := ReadAll(bytes.NewReader(data), filepath.Base(rel), DefaultOptions())
			var got []byte
			if want, neg := negatives[rel]; neg {
				if !errors.Is(err, want) {
					t.Fatalf("err = %v, want %v", err, want)
				}
				got = renderJSON(t, map[string]string{"error": err.Error()})
			} else {
				if err != nil {
					t.Fatalf("ReadAll: %v", err)
				}
				// The provenance of each transaction (its identity evidence)
				// has a golden file of its own, so that the model's goldens
				// change only when the model does.
				checkGolden(t, filepath.Join("testdata", "golden", filepath.FromSlash(rel)+".origin.json"),
					renderJSON(t, origins(doc)))
				for _, st := range doc.Statements {
					for _, e := range st.Entries {
						for i := range e.Projected {
							e.Projected[i].Origin = nil
						}
					}
				}
				got = renderJSON(t, doc)
			}
			checkGolden(t, filepath.Join("testdata", "golden", filepath.FromSlash(rel)+".json"), got)
		})
	}
}

// origins lists, per projected transaction, its tx_ref and Origin.
func origins(doc *Document) []map[string]any {
	out := []map[string]any{}
	for _, st := range doc.Statements {
		for _, e := range st.Entries {
			for _, tx := range e.Projected {
				out = append(out, map[string]any{"tx_ref": tx.Ref, "origin": tx.Origin})
			}
		}
	}
	return out
}

func checkGolden(t *testing.T, golden string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("reading golden (run go test -update): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the parse; run go test ./connectors/camt -run TestGolden -update and review the diff", golden)
	}
}

// TestParseAgreesWithReadAll: streaming Parse hands out, entry by entry, the
// same transactions ReadAll keeps, and keeps no entries itself.
func TestParseAgreesWithReadAll(t *testing.T) {
	for _, rel := range testFiles(t) {
		if _, neg := negatives[rel]; neg {
			continue
		}
		data := readCorpus(t, rel)
		doc, err := ReadAll(bytes.NewReader(data), rel, DefaultOptions())
		if err != nil {
			t.Fatalf("%s: ReadAll: %v", rel, err)
		}
		var want []domain.Transaction
		for _, st := range doc.Statements {
			for _, e := range st.Entries {
				want = append(want, e.Projected...)
			}
		}
		var got []domain.Transaction
		lastIdx := map[*Statement]int{}
		f, err := Parse(bytes.NewReader(data), rel, DefaultOptions(), func(st *Statement, e *Entry, txs []domain.Transaction) error {
			if e.Index != lastIdx[st]+1 {
				t.Errorf("%s: entry index %d after %d", rel, e.Index, lastIdx[st])
			}
			lastIdx[st] = e.Index
			got = append(got, txs...)
			return nil
		})
		if err != nil {
			t.Fatalf("%s: Parse: %v", rel, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: Parse and ReadAll transactions differ", rel)
		}
		if len(f.Statements) != len(doc.Statements) {
			t.Errorf("%s: %d statements, ReadAll %d", rel, len(f.Statements), len(doc.Statements))
		}
		keys := map[string]bool{}
		for i, st := range f.Statements {
			if st.Entries != nil {
				t.Errorf("%s: Parse kept entries", rel)
			}
			if !reflect.DeepEqual(st.Checks, doc.Statements[i].Checks) {
				t.Errorf("%s: checks differ", rel)
			}
		}
		for _, tx := range got {
			if keys[tx.Key] {
				t.Errorf("%s: duplicate key %q", rel, tx.Key)
			}
			keys[tx.Key] = true
			if tx.Ref == "" || !strings.HasPrefix(tx.Key, tx.Account+"|") || strings.HasPrefix(tx.Ref, tx.Account) && tx.Account != "" {
				t.Errorf("%s: bad ref/key %q / %q", rel, tx.Ref, tx.Key)
			}
			if tx.Amount.Sign() < 0 {
				t.Errorf("%s: negative cash amount in %q", rel, tx.Key)
			}
		}
	}
}
