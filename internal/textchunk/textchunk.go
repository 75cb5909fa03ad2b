// Package textchunk keeps short texts in shared chunks of memory: many
// small strings that live as long as one another (a statement's names and
// remittance lines, an export's item numbers) cost the allocator and the
// garbage collector one pointer-free object per chunk instead of one
// object each (issue 14: the CAMT reader and the file ledger's items).
package textchunk

import (
	"strings"
	"unsafe"
)

// Size is the size of a chunk. A text longer than an eighth of it is
// allocated on its own.
const Size = 32 << 10

// Chunks copies texts into the current chunk, a strings.Builder grown once
// (its memory is not zeroed first); the texts are slices of its String:
// what a Builder has written it never writes again, and a full chunk is
// left to its texts for a new one. A chunk lives as long as any of its
// texts. The zero value is ready to use; a Chunks is not safe for
// concurrent use.
type Chunks struct {
	b strings.Builder
}

// KeepBytes returns a string of b's bytes in memory of its own, copied
// into the current chunk when short.
func (c *Chunks) KeepBytes(b []byte) string {
	switch {
	case len(b) == 0:
		return ""
	case len(b) > Size/8:
		return string(b)
	}
	if c.b.Len()+len(b) > c.b.Cap() {
		c.b = strings.Builder{}
		c.b.Grow(Size)
	}
	off := c.b.Len()
	c.b.Write(b)
	return c.b.String()[off:]
}

// Keep is KeepBytes for a string: a copy of s, in a chunk when short. The
// view of s's bytes is only read.
func (c *Chunks) Keep(s string) string {
	return c.KeepBytes(unsafe.Slice(unsafe.StringData(s), len(s)))
}

// Len is the number of bytes used of the current chunk.
func (c *Chunks) Len() int { return c.b.Len() }
