package pipeline

import "testing"

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
		if got := IsLockOrTemp(name); got != want {
			t.Errorf("IsLockOrTemp(%q) = %v, want %v", name, got, want)
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
		if got := AuthorOf(&Workbook{LastModifiedBy: tt.last, Creator: tt.creator}, tt.def); got != tt.want {
			t.Errorf("AuthorOf(%q, %q, %q) = %q, want %q", tt.last, tt.creator, tt.def, got, tt.want)
		}
	}
}
