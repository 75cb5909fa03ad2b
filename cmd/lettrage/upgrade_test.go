package main

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/lettrage/lettrage/internal/camtgen"
)

// copyTree copies the fixture folder from into to.
func copyTree(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		copyFile(t, p, filepath.Join(to, rel))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// accountedPayers lists, per transaction lettered (journal) or reported
// (exceptions.csv), its payer: a transaction counts once however many
// rows it has.
func accountedPayers(t *testing.T, out string) (payers []string, lettered map[string]int) {
	t.Helper()
	byRef := map[string]string{}
	lettered = map[string]int{}
	rows := readCSV(t, filepath.Join(out, "matches.csv"))
	refs, names, keys := columns(t, rows, "tx_ref")[0:], columns(t, rows, "counterparty_name"), columns(t, rows, "decision_key")
	seenKey := map[string]bool{}
	for i := range refs {
		byRef[refs[i]] = names[i]
		if !seenKey[keys[i]] {
			seenKey[keys[i]] = true
			lettered[names[i]]++
		}
	}
	exc := readCSV(t, filepath.Join(out, "exceptions.csv"))
	erefs, enames := columns(t, exc, "tx_ref"), columns(t, exc, "counterparty_name")
	for i := range erefs {
		byRef[erefs[i]] = enames[i]
	}
	for _, n := range byRef {
		payers = append(payers, n)
	}
	sort.Strings(payers)
	return payers, lettered
}

// TestUpgradeFromReleaseStateStore: a state store and journal written by
// the release before the identity rule, then the same files delivered
// again (the same bytes, then re-sent under other names with another
// message id): nothing is lettered twice and the credits the old release
// dropped are accounted for.
func TestUpgradeFromReleaseStateStore(t *testing.T) {
	dir := t.TempDir()
	copyTree(t, filepath.Join("testdata", "upgrade-v0"), dir)
	cfg := filepath.Join(dir, "lettrage.yaml")
	out := filepath.Join(dir, "release")
	all := []string{"ALPHA SA", "BRAVO SARL", "CHARLIE GMBH", "DELTA BV", "ECHO SAS", "FOXTROT SA", "GOLF SARL", "HOTEL SNC"}
	check := func(step string) {
		t.Helper()
		payers, lettered := accountedPayers(t, out)
		if strings.Join(payers, "|") != strings.Join(all, "|") {
			t.Errorf("%s: accounted for %q, want each of %q once", step, payers, all)
		}
		for _, name := range []string{"ALPHA SA", "BRAVO SARL", "ECHO SAS", "GOLF SARL"} {
			if lettered[name] != 1 {
				t.Errorf("%s: %s lettered %d times, want once", step, name, lettered[name])
			}
		}
		if len(lettered) != 4 {
			t.Errorf("%s: lettered %v, want the four payments quoting an invoice's reference", step, lettered)
		}
	}

	// The same files, the same bytes: read again once (they were read
	// under the old rule), matched by content against what is recorded.
	r := runBin(t, nil, "once", "-c", cfg)
	if r.code != 0 {
		t.Fatalf("once: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	check("same files again")
	if !strings.Contains(r.stdout, "4 delivered again") {
		t.Errorf("summary does not say the four recorded credits were delivered again:\n%s", r.stdout)
	}

	// Re-sent by the bank: other names, another message id.
	for _, name := range []string{"ch-2026-11-16.xml", "rs-2026-11-17.xml"} {
		b, err := os.ReadFile(filepath.Join(dir, "statements", name))
		if err != nil {
			t.Fatal(err)
		}
		resent := strings.Replace(string(b), "<MsgId>", "<MsgId>RESENT-", 1)
		if err := os.WriteFile(filepath.Join(dir, "statements", "resent-"+name), []byte(resent), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r = runBin(t, nil, "once", "-c", cfg)
	if r.code != 0 {
		t.Fatalf("once after re-sent files: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	check("re-sent files")
	_ = camtgen.Doc{}
}
