package file

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/lettrage/lettrage/connectors"
	"github.com/lettrage/lettrage/domain"
)

// readJournalWhole is readJournal as it was before it streamed the rows
// (it kept every record until the last was read, then added them): the
// reference TestJournalStreamedAsWhole holds readJournal to.
func readJournalWhole(f *os.File, path string) (*journalState, int64, error) {
	info, err := f.Stat()
	if err != nil {
		return nil, -1, fmt.Errorf("reading journal %q: %w", path, err)
	}
	size := info.Size()
	torn := false
	if size > 0 {
		last := make([]byte, 1)
		if _, err := f.ReadAt(last, size-1); err != nil {
			return nil, -1, fmt.Errorf("reading journal %q: %w", path, err)
		}
		torn = last[0] != '\n'
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, -1, fmt.Errorf("reading journal %q: %w", path, err)
	}
	cr := csv.NewReader(bufio.NewReaderSize(f, 64<<10))
	cr.FieldsPerRecord = -1

	type rowAt struct {
		key        string
		start, end int64
		fields     []string
	}
	var rows []rowAt // complete data rows
	var headerEnd int64
	headerSeen := false
	width := len(JournalHeader)
	var tornAt int64 = -1 // start of the torn fragment
	var fragment []string
	for {
		start := cr.InputOffset()
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		end := cr.InputOffset()
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) && (torn || openQuoteToEOF(f, start, size)) {
				tornAt = start
				fragment = leniently(f, start)
				break
			}
			return nil, -1, fmt.Errorf("reading journal %q: %w: %w", path, ErrJournal, err)
		}
		if torn && end == size {
			tornAt, fragment = start, rec
			break
		}
		if !headerSeen {
			switch {
			case equalStrings(rec, JournalHeader):
				width = len(JournalHeader)
			case equalStrings(rec, postingJournalHeader):
				width = len(postingJournalHeader) // written before the FX columns
			case equalStrings(rec, fecJournalHeader):
				width = len(fecJournalHeader) // written before the posting columns
			case equalStrings(rec, ContractHeader):
				width = len(ContractHeader) // written before the FEC columns
			default:
				return nil, -1, fmt.Errorf("reading journal %q: %w: header is not the matches.csv header", path, ErrJournal)
			}
			headerSeen, headerEnd = true, end
			continue
		}
		if len(rec) != width {
			line, _ := cr.FieldPos(0)
			return nil, -1, fmt.Errorf("reading journal %q: line %d: %w: want %d fields, got %d",
				path, line, ErrJournal, width, len(rec))
		}
		rec = unescapeRow(rec)
		rows = append(rows, rowAt{key: rec[jKey], start: start, end: end, fields: rec})
	}
	cut := int64(-1)
	if tornAt >= 0 {
		if !headerSeen {
			// The header itself is torn: nothing else can be in the file.
			cut = 0
		} else {
			cut = tornAt
			if len(fragment) > jKey {
				for len(rows) > 0 && rows[len(rows)-1].key == fragment[jKey] {
					cut = rows[len(rows)-1].start
					rows = rows[:len(rows)-1]
				}
			}
			if cut < headerEnd {
				cut = headerEnd
			}
		}
	}
	st := newJournalStateFor(len(rows))
	st.width = width
	for _, r := range rows {
		if err := st.add(r.fields); err != nil {
			return nil, -1, fmt.Errorf("reading journal %q: row at byte %d: %w: %w", path, r.start, ErrJournal, err)
		}
	}
	if cut == 0 {
		// Rewrite the header over the torn one.
		if err := f.Truncate(0); err != nil {
			return nil, -1, fmt.Errorf("repairing torn journal %q: %w", path, err)
		}
		if err := writeHeader(f); err != nil {
			return nil, -1, fmt.Errorf("repairing torn journal %q: %w", path, err)
		}
		cut = -1
	}
	return st, cut, nil
}

// TestJournalStreamedAsWhole reads journals of a few rows and of more than
// journalSizeRows, whole and cut at every kind of place (inside a row,
// between the rows of a decision, inside a quoted field with a line break,
// the last byte), with readJournal and with the reference readJournalWhole:
// the same state, the same repair cut, the same error.
func TestJournalStreamedAsWhole(t *testing.T) {
	ctx := context.Background()
	for _, decisions := range []int{3, journalSizeRows + 300} {
		l, journal := newLedger(t)
		var batch []connectors.KeyedDecision
		for i := range decisions {
			k := "k" + strconv.Itoa(i)
			allocs := []domain.Allocation{alloc("INV-"+strconv.Itoa(i), "10", "")}
			if i%3 == 0 { // decisions of several rows
				allocs = append(allocs, alloc("INV-"+strconv.Itoa(i+1), "5", "0.5"), alloc("CN-"+strconv.Itoa(i), "-2", ""))
			}
			d := decision(k, "R"+strconv.Itoa(i), allocs...)
			if i%7 == 0 {
				d.Decision.Postings = []domain.Posting{{Kind: domain.OnAccount, CustomerID: "C1", Amount: domain.MustAmount("3.00"), Reason: "overpaid"}}
			}
			batch = append(batch, d)
		}
		if err := l.Apply(ctx, batch); err != nil {
			t.Fatal(err)
		}
		whole, err := os.ReadFile(journal)
		if err != nil {
			t.Fatal(err)
		}
		cuts := map[int]bool{len(whole): true, len(whole) - 1: true, len(whole) - 2: true}
		for i := len(whole) - 1; i > 0 && len(cuts) < 120; i-- {
			if whole[i-1] == '\n' || whole[i-1] == ',' || i%97 == 0 {
				cuts[i] = true // after a line (or a break inside a name), after a field, anywhere
			}
		}
		for _, c := range []int{len(whole) / 2, len(whole) / 3, 40, 10} {
			cuts[c] = true
		}
		for c := range cuts {
			dir := t.TempDir()
			a, b := filepath.Join(dir, "a.csv"), filepath.Join(dir, "b.csv")
			for _, p := range []string{a, b} {
				if err := os.WriteFile(p, whole[:c], 0o644); err != nil {
					t.Fatal(err)
				}
			}
			fa, _ := os.OpenFile(a, os.O_RDWR, 0) // a torn header is repaired in place
			fb, _ := os.OpenFile(b, os.O_RDWR, 0)
			got, gotCut, gotErr := readJournal(fa, "j")
			want, wantCut, wantErr := readJournalWhole(fb, "j")
			fa.Close()
			fb.Close()
			if strings.ReplaceAll(fmt.Sprint(gotErr), a, b) != fmt.Sprint(wantErr) || gotCut != wantCut {
				t.Fatalf("%d decisions cut at %d of %d: got cut %d, %v; want cut %d, %v", decisions, c, len(whole), gotCut, gotErr, wantCut, wantErr)
			}
			if gotErr != nil {
				continue
			}
			if len(got.keys) == 0 && decisions > journalSizeRows && c > len(whole)/2 {
				t.Fatalf("cut at %d: nothing read", c)
			}
			got.info, want.info = nil, nil
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("%d decisions cut at %d of %d: the states differ: %d keys, %d items against %d, %d",
					decisions, c, len(whole), len(got.keys), len(got.used), len(want.keys), len(want.used))
			}
		}
	}
}
