package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lettrage/lettrage/internal/camtgen"
)

// TestInspectShowsIdentity: inspect says, per transaction, what the
// identity rule decides when the files named are read in order: a batch
// entry waiting for its details and covered when they come, details new,
// then delivered again.
func TestInspectShowsIdentity(t *testing.T) {
	const acct, day = "FR7630003012340005001234509", "2026-11-16"
	dir := t.TempDir()
	batch := camtgen.Doc{Message: "053", MsgID: "B053", Statements: []camtgen.Stmt{{ID: "B053", Account: acct,
		Entries: []camtgen.Entry{{Credit: true, BookingDate: day, Amount: "300.00", AcctSvcrRef: "BATCH-77", Batch: 2}}}}}
	details := func(msg string) camtgen.Doc {
		return camtgen.Doc{Message: "054", MsgID: msg, Statements: []camtgen.Stmt{{ID: msg, Account: acct,
			Entries: []camtgen.Entry{{Credit: true, BookingDate: day, Amount: "300.00", AcctSvcrRef: "BATCH-77",
				Txs: []camtgen.Tx{{Amount: "100.00", Name: "ALPHA SA"}, {Amount: "200.00", Name: "BRAVO SARL"}}}}}}}
	}
	var paths []string
	for _, f := range []struct {
		name string
		doc  camtgen.Doc
	}{{"1-batch.xml", batch}, {"2-details.xml", details("N1")}, {"3-again.xml", details("N1-RESENT")}} {
		p := filepath.Join(dir, f.name)
		if err := os.WriteFile(p, f.doc.XML(), 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	r := runBin(t, nil, append([]string{"inspect"}, paths...)...)
	if r.code != 0 {
		t.Fatalf("inspect: exit %d\n%s", r.code, r.stderr)
	}
	var got []string
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		var obj struct {
			Kind     string `json:"kind"`
			File     string `json:"file"`
			Identity struct {
				TxRef   string `json:"tx_ref"`
				Verdict string `json:"verdict"`
				Of      string `json:"of"`
			} `json:"identity"`
		}
		if err := json.Unmarshal([]byte(line), &obj); err != nil {
			t.Fatal(err)
		}
		if obj.Kind == "statement" {
			continue
		}
		got = append(got, filepath.Base(obj.File)+" "+obj.Kind+" "+obj.Identity.TxRef+" "+obj.Identity.Verdict+" "+obj.Identity.Of)
	}
	want := []string{
		"1-batch.xml transaction BATCH-77 awaiting_details ",
		"2-details.xml transaction BATCH-77/1 new ",
		"2-details.xml transaction BATCH-77/2 new ",
		"2-details.xml set_aside BATCH-77 covered_by_details ",
		"3-again.xml transaction BATCH-77/1 duplicate_delivery BATCH-77/1",
		"3-again.xml transaction BATCH-77/2 duplicate_delivery BATCH-77/2",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("inspect said\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
