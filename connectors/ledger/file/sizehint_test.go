package file

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"unsafe"

	"github.com/lettrage/lettrage/domain"
)

// allocated returns the bytes the process allocated while fn ran.
func allocated(t *testing.T, fn func()) int64 {
	t.Helper()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return int64(after.TotalAlloc - before.TotalAlloc)
}

// TestSizeHint checks that an open-items file read from disk gets its items
// allocated once from the size of the file (the first rows' bytes per
// row), and that a reader that is not a file reads the same items.
func TestSizeHint(t *testing.T) {
	var b strings.Builder
	b.WriteString("id,customer_id,customer_name,document_number,issue_date,due_date,currency,amount,residual\n")
	const n = 5000
	for i := range n {
		fmt.Fprintf(&b, "I%07d,C%06d,Customer %d,FA-2025-%06d,2025-01-09,2025-02-08,EUR,%d.10,%d.10\n", i, i%300, i%300, i, 100+i%900, 100+i%900)
	}
	path := filepath.Join(t.TempDir(), "open_items.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := fileSize(bytes.NewReader(nil)); got != 0 {
		t.Errorf("fileSize of a bytes.Reader = %d, want 0", got)
	}
	var ex *export
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got := fileSize(f); got != int64(b.Len()) {
		t.Errorf("fileSize = %d, want %d", got, b.Len())
	}
	fromFile := allocated(t, func() {
		var err error
		if ex, err = contractLayout().readCSV(f, "open_items.csv"); err != nil {
			t.Fatal(err)
		}
	})
	if len(ex.items) != n {
		t.Fatalf("%d items, want %d", len(ex.items), n)
	}
	if c := cap(ex.items); c < n || c > n*113/100 {
		t.Errorf("cap(items) = %d, want between %d and %d (allocated once from the file's size)", c, n, n*113/100)
	}
	var mem *export
	fromMemory := allocated(t, func() {
		var err error
		if mem, err = contractLayout().readCSV(strings.NewReader(b.String()), "open_items.csv"); err != nil {
			t.Fatal(err)
		}
	})
	// Without the hint the items are allocated by doubling (256 … 8,192,
	// three times the 5,000 items) and copied to their size: at least
	// twice the items' bytes more than with it.
	if item := int64(unsafe.Sizeof(domain.OpenItem{})); fromFile > fromMemory-2*n*item {
		t.Errorf("read from the file: %d bytes allocated, from memory %d: want at least %d less (the items allocated once)", fromFile, fromMemory, 2*n*item)
	}
	if len(mem.items) != n || mem.items[n-1].ID != ex.items[n-1].ID {
		t.Errorf("read from memory: %d items, last %q; from the file: last %q", len(mem.items), mem.items[len(mem.items)-1].ID, ex.items[n-1].ID)
	}
}

// TestSizeHintKeepsIDs: the ids seen before the size hint are still known
// after it (the map of ids is made again with room for the whole file),
// so an id repeated across the hint is refused with its first line.
func TestSizeHintKeepsIDs(t *testing.T) {
	var b strings.Builder
	b.WriteString("id,customer_id,customer_name,document_number,issue_date,due_date,currency,amount,residual\n")
	for i := range 2*sizeHintRows + 100 {
		id := i
		if i == 2*sizeHintRows {
			id = 10 // line 12
		}
		fmt.Fprintf(&b, "I%07d,C1,Customer,FA-%06d,2025-01-09,2025-02-08,EUR,10.00,10.00\n", id, i)
	}
	path := filepath.Join(t.TempDir(), "open_items.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	_, err = contractLayout().readCSV(f, "open_items.csv")
	if !errors.Is(err, ErrDuplicateID) || !strings.Contains(err.Error(), `"I0000010" (first on line 12)`) {
		t.Errorf("an id repeated after the size hint: %v", err)
	}
}
