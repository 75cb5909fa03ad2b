package main

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// The peak heap profile is the one of the collection that found the most
// live: taken while a large block was live, and kept after it was dropped.
func TestHeapPeakProfile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "peak.pprof")
	var stderr bytes.Buffer
	p := newHeapPeak(path, &stderr)
	block := make([]byte, 64<<20)
	for i := range block {
		block[i] = byte(i)
	}
	for deadline := time.Now().Add(5 * time.Second); p.peak() < 64<<20 && time.Now().Before(deadline); {
		runtime.GC()
		time.Sleep(10 * time.Millisecond) // the finalizer goroutine samples
	}
	runtime.KeepAlive(block)
	block = nil
	if got := p.peak(); got < 64<<20 {
		t.Fatalf("peak live heap %d bytes with a 64 MiB block live", got)
	}
	runtime.GC()
	time.Sleep(10 * time.Millisecond)
	p.write()
	if got := p.peak(); got < 64<<20 {
		t.Errorf("peak live heap %d bytes after the block was dropped: the peak was lost", got)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) < 2 || data[0] != 0x1f || data[1] != 0x8b {
		t.Fatalf("the peak profile is not a gzipped pprof profile: %d bytes", len(data))
	}
	if !strings.Contains(stderr.String(), "peak live heap") || !strings.Contains(stderr.String(), path) {
		t.Errorf("stderr %q does not report the peak and the profile", stderr.String())
	}
}

// Without LETTRAGE_HEAPPEAK nothing is watched nor written.
func TestHeapPeakOff(t *testing.T) {
	var stderr bytes.Buffer
	startHeapPeak("", &stderr)()
	if stderr.Len() != 0 {
		t.Errorf("stderr %q, want nothing", stderr.String())
	}
}

// LETTRAGE_TRACE writes an execution trace, header and all, once the
// profiles are stopped.
func TestExecutionTrace(t *testing.T) {
	path := filepath.Join(t.TempDir(), "trace.out")
	t.Setenv("LETTRAGE_TRACE", path)
	var stderr bytes.Buffer
	stop := startProfiles(&stderr)
	done := make(chan int)
	go func() { done <- len(make([]byte, 1<<20)) }()
	<-done
	stop()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(data, []byte("go 1.")) || len(data) < 1000 || stderr.Len() != 0 {
		t.Errorf("trace of %d bytes starting %q, stderr %q: want a Go execution trace", len(data), data[:min(len(data), 16)], stderr.String())
	}
}
