package pipeline

import "testing"

// stageSim stages total transactions of per bytes each, one at a time, as
// readFile does (the bytes counted run ahead by the reader's 64 KiB
// buffer), and returns how many transactions the growths copied, how many
// times it grew and the final capacity. size is the file's size as listed
// (0: unknown); whole makes every byte read before the first transaction
// (a .zip).
func stageSim(total int, per, size int64, whole bool) (copied, grows, capacity int) {
	n := 0
	for i := range total {
		read := min(int64(i+1)*per+64<<10, int64(total)*per)
		if whole {
			read = int64(total) * per
		}
		if need := n + 1; need > capacity {
			copied += n
			grows++
			capacity = stagingCap(n, need, read, size)
			if capacity < need {
				panic("stagingCap below need")
			}
		}
		n++
	}
	return copied, grows, capacity
}

// TestStagingCapEstimatesFromSize: a file whose size is known is staged
// with about one copy of its transactions and a few growths, and its slice
// is left within an eighth of its size (readFile then keeps it as is);
// a file read whole, or of unknown size, is doubled.
func TestStagingCapEstimatesFromSize(t *testing.T) {
	for _, c := range []struct {
		total int
		per   int64
	}{{50000, 2500}, {120000, 600}, {3000, 1500}, {300, 400}} {
		size := int64(c.total) * c.per
		copied, grows, capacity := stageSim(c.total, c.per, size, false)
		if size >= 4*stagingEstimateAfter {
			// Doubling copies at least half of them, and leaves up to half
			// of the capacity unused.
			if copied > c.total/4 || grows > 12 {
				t.Errorf("%d × %d B: %d transactions copied in %d growths; want at most a quarter of them", c.total, c.per, copied, grows)
			}
			if capacity-c.total > c.total/8 || capacity < c.total {
				t.Errorf("%d × %d B: capacity %d for %d transactions; want within an eighth", c.total, c.per, capacity, c.total)
			}
		}
		for _, whole := range []bool{true, false} {
			s := size
			if !whole {
				s = 0 // unknown size
			}
			copied, _, capacity := stageSim(c.total, c.per, s, whole)
			if capacity&(capacity-1) != 0 || capacity < c.total || copied < c.total/2 {
				t.Errorf("%d × %d B, size %d: capacity %d, %d copied; want doubling from 64", c.total, c.per, s, capacity, copied)
			}
		}
	}
}
