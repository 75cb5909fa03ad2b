package textchunk

import (
	"strings"
	"testing"
	"unsafe"
)

// TestKeepSharesAChunk: short texts are copies laid one after the other in
// one chunk, untouched by the texts kept after them; a long text and an
// empty one take nothing of it; a full chunk is left for a new one.
func TestKeepSharesAChunk(t *testing.T) {
	var c Chunks
	src := []byte("FA-2025-00560")
	a := c.KeepBytes(src)
	src[0] = 'X' // the kept text is a copy
	b := c.Keep("REF 2025-560")
	if a != "FA-2025-00560" || b != "REF 2025-560" {
		t.Fatalf("kept %q %q", a, b)
	}
	if uintptr(unsafe.Pointer(unsafe.StringData(a)))+uintptr(len(a)) != uintptr(unsafe.Pointer(unsafe.StringData(b))) {
		t.Error("two short texts are not in one chunk, one after the other")
	}
	used := c.Len()
	long := strings.Repeat("LONG REMITTANCE ", Size/16)
	if s := c.Keep(long); s != long || unsafe.StringData(s) == unsafe.StringData(long) || c.Len() != used {
		t.Errorf("a long text: kept in the chunk or not copied (chunk %d → %d bytes)", used, c.Len())
	}
	if c.Keep("") != "" || c.KeepBytes(nil) != "" || c.Len() != used {
		t.Error("an empty text took room in the chunk")
	}
	for c.Len()+len(b) <= Size {
		c.Keep(b)
	}
	before := c.Len()
	if s := c.Keep(b); s != b || c.Len() != len(b) || before+len(b) <= Size {
		t.Errorf("a full chunk (%d bytes) was not left for a new one (now %d)", before, c.Len())
	}
	if a != "FA-2025-00560" {
		t.Errorf("a kept text changed: %q", a)
	}
}
