package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"sync"
	"time"
)

// startProfiles starts the profiles the environment asks for, for
// measuring a command (docs/BENCHMARKS.md): LETTRAGE_CPUPROFILE names the
// CPU profile's file, LETTRAGE_MEMPROFILE the heap profile's (written when
// the command ends), LETTRAGE_PEAKPROFILE a heap profile written again
// each time the live heap (as of the last GC) passes its highest value so
// far by a tenth — so the file left holds the heap near its peak, which
// the profile at the end does not show. The returned function stops and
// writes them.
func startProfiles(stderr io.Writer) func() {
	cpuPath, memPath := os.Getenv("LETTRAGE_CPUPROFILE"), os.Getenv("LETTRAGE_MEMPROFILE")
	var cpu *os.File
	if cpuPath != "" {
		f, err := os.Create(cpuPath)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintf(stderr, "lettrage: starting the CPU profile: %v\n", err)
		} else {
			cpu = f
		}
	}
	stopPeak := watchPeakHeap(os.Getenv("LETTRAGE_PEAKPROFILE"), stderr)
	return func() {
		stopPeak()
		if cpu != nil {
			pprof.StopCPUProfile()
			cpu.Close()
		}
		if memPath == "" {
			return
		}
		if err := writeHeapProfile(memPath, true); err != nil {
			fmt.Fprintf(stderr, "lettrage: writing the heap profile: %v\n", err)
		}
	}
}

// writeHeapProfile writes the heap profile to path, after a GC when gc
// is set (the peak watcher does not force one: it reads the heap the last
// GC left).
func writeHeapProfile(path string, gc bool) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("creating %q: %w", path, err)
	}
	if gc {
		runtime.GC()
	}
	if err := pprof.WriteHeapProfile(f); err != nil {
		f.Close()
		return fmt.Errorf("writing %q: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("closing %q: %w", path, err)
	}
	return nil
}

// watchPeakHeap polls the live heap every 200 ms and writes the heap
// profile to path when it is a tenth above the highest written so far; an
// empty path watches nothing. The returned function stops the watcher.
func watchPeakHeap(path string, stderr io.Writer) func() {
	if path == "" {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
		var written uint64
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
			}
			metrics.Read(sample)
			if sample[0].Value.Kind() != metrics.KindUint64 {
				return
			}
			live := sample[0].Value.Uint64()
			if live <= written+written/10 {
				continue
			}
			if err := writeHeapProfile(path, false); err != nil {
				fmt.Fprintf(stderr, "lettrage: writing the peak heap profile: %v\n", err)
				return
			}
			written = live
		}
	}()
	return func() { close(done); wg.Wait() }
}
