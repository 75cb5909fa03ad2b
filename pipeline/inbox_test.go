package pipeline

import (
	"strings"
	"testing"

	"github.com/lettrage/lettrage/domain"
	"github.com/lettrage/lettrage/pipeline/report"
)

func TestIsLockOrTemp(t *testing.T) {
	for name, want := range map[string]bool{
		"~$2026-12-08-marie.xlsx":  true,
		".~lock.claire.xlsx#":      true,
		"inbox/~WRL0001.tmp":       true,
		"claire.xlsx.crdownload":   true,
		".hidden.xlsx":             true,
		"2026-12-08-marie.xlsx":    false,
		"inbox/exceptions-fr.csv":  false,
		"résolutions claire.xlsx":  false,
		"exceptions (1).xlsx":      false,
		"dir.with.dots/claire.csv": false,
	} {
		if got := report.IsLockOrTemp(name); got != want {
			t.Errorf("report.IsLockOrTemp(%q) = %v, want %v", name, got, want)
		}
	}
}

// TestAuthorOf: the workbook's last author, else its creator unless that
// is Lettrage, else the configured default — never the tool.
func TestAuthorOf(t *testing.T) {
	for _, tt := range []struct {
		last, creator, def, want string
	}{
		{"Claire Martin", "Lettrage", "", "Claire Martin"},
		{"", "Marc Petit", "compta", "Marc Petit"},
		{"", "Lettrage", "compta", "compta"},
		{"  ", "lettrage", "", "unknown"},
		{"Lettrage", "", "", "unknown"},
	} {
		if got := report.AuthorOf(&report.Workbook{LastModifiedBy: tt.last, Creator: tt.creator}, tt.def); got != tt.want {
			t.Errorf("report.AuthorOf(%q, %q, %q) = %q, want %q", tt.last, tt.creator, tt.def, got, tt.want)
		}
	}
}

// TestParseItemRefs: items takes ids and document numbers; an ambiguous
// reference is refused with the reason.
func TestParseItemRefs(t *testing.T) {
	byID := map[string]domain.OpenItem{
		"OI-1": {ID: "OI-1", DocumentNumber: "FA-2026-00137"},
		"OI-2": {ID: "OI-2", DocumentNumber: "FA-2026-00200"},
		"OI-3": {ID: "OI-3", DocumentNumber: "FA-2026-00200"}, // an invoice split in two due dates
		"OI-4": {ID: "OI-4", DocumentNumber: "OI-1"},          // a number that is another item's id
		"77":   {ID: "77", DocumentNumber: "77"},
	}
	byDoc := map[string][]string{}
	for _, it := range byID {
		byDoc[docKey(it.DocumentNumber)] = append(byDoc[docKey(it.DocumentNumber)], it.ID)
	}
	for _, tt := range []struct{ in, want, err string }{
		{"FA-2026-00137:100,00", "OI-1=100", ""},
		{"fa-2026-00137 ; OI-2", "OI-1;OI-2", ""},
		{"77", "77", ""},
		{"UNKNOWN", "UNKNOWN", ""}, // refused later: does not exist
		{"FA-2026-00200", "", `document number "FA-2026-00200" names 2 open items (OI-2, OI-3): ambiguous`},
		{"OI-1", "", `"OI-1" is the id of one open item and the document number of OI-4: ambiguous`},
	} {
		got, err := parseItemRefs(tt.in, byID, byDoc)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%q: err = %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tt.in, err)
			continue
		}
		var parts []string
		for _, p := range got {
			s := p.id
			if p.amount != nil {
				s += "=" + p.amount.String()
			}
			parts = append(parts, s)
		}
		if g := strings.Join(parts, ";"); g != tt.want && !(tt.want == "OI-1=100" && g == "OI-1=100.00") {
			t.Errorf("%q: got %q, want %q", tt.in, g, tt.want)
		}
	}
}
