package main

import (
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

// sink keeps the test's allocations live across a GC.
var sink [][]byte

// TestPeakHeapProfile: LETTRAGE_PEAKPROFILE writes a heap profile once the
// live heap has grown, while the command runs (not only at its end).
func TestPeakHeapProfile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "peak.pprof")
	stop := watchPeakHeap(path, io.Discard)
	defer func() { sink = nil }()
	for range 64 {
		sink = append(sink, make([]byte, 1<<20))
	}
	runtime.GC() // the live figure is the last GC's
	deadline := time.Now().Add(5 * time.Second)
	for {
		if fi, err := os.Stat(path); err == nil && fi.Size() > 0 {
			break
		}
		if time.Now().After(deadline) {
			stop()
			t.Fatal("no heap profile written while the heap grew")
		}
		time.Sleep(50 * time.Millisecond)
	}
	stop()
	stop = watchPeakHeap("", io.Discard) // nothing asked: nothing watched
	stop()
}
