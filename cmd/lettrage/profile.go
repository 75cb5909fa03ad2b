package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"runtime/trace"
	"sync"
)

// startProfiles starts the profiles the environment asks for, for
// measuring a command (docs/BENCHMARKS.md): LETTRAGE_CPUPROFILE names the
// CPU profile's file, LETTRAGE_MEMPROFILE the heap profile's (written when
// the command ends), LETTRAGE_HEAPPEAK that of the heap at its largest live
// set (the profile of the collection that found the most bytes live,
// rewritten whenever a later collection finds more), LETTRAGE_TRACE that of
// the execution trace (runtime/trace, read with `go tool trace`: which
// stages keep the cores busy). The returned function stops and writes them.
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
	var tr *os.File
	if tracePath := os.Getenv("LETTRAGE_TRACE"); tracePath != "" {
		f, err := os.Create(tracePath)
		if err == nil {
			err = trace.Start(f)
		}
		if err != nil {
			fmt.Fprintf(stderr, "lettrage: starting the execution trace: %v\n", err)
		} else {
			tr = f
		}
	}
	peak := startHeapPeak(os.Getenv("LETTRAGE_HEAPPEAK"), stderr)
	return func() {
		if tr != nil {
			trace.Stop()
			tr.Close()
		}
		if cpu != nil {
			pprof.StopCPUProfile()
			cpu.Close()
		}
		peak()
		if memPath == "" {
			return
		}
		f, err := os.Create(memPath)
		if err == nil {
			runtime.GC()
			err = pprof.WriteHeapProfile(f)
			f.Close()
		}
		if err != nil {
			fmt.Fprintf(stderr, "lettrage: writing the heap profile: %v\n", err)
		}
	}
}

// heapPeak keeps the heap profile of the collection that found the most
// bytes live.
type heapPeak struct {
	mu     sync.Mutex
	path   string
	stderr io.Writer
	max    uint64
	buf    bytes.Buffer
	done   bool
	// again: the peak was seen at the last collection; its profile is
	// published only once the sweep is done, so it is taken again at the
	// next one.
	again bool
}

// startHeapPeak watches every collection (a finalizer re-armed at each
// cycle) and, when the live heap is the largest seen so far, takes the
// heap profile; the returned function writes the last one taken to path
// and reports the peak on stderr. An empty path watches nothing.
func startHeapPeak(path string, stderr io.Writer) func() {
	if path == "" {
		return func() {}
	}
	return newHeapPeak(path, stderr).write
}

func newHeapPeak(path string, stderr io.Writer) *heapPeak {
	p := &heapPeak{path: path, stderr: stderr}
	p.arm()
	return p
}

// peak is the largest live heap seen so far, in bytes.
func (p *heapPeak) peak() uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.max
}

func (p *heapPeak) arm() {
	sentinel := new([16]byte)
	runtime.SetFinalizer(sentinel, func(*[16]byte) { p.sample() })
}

// sample runs after a collection: it reads the live heap that collection
// marked and keeps the profile if it is a new peak, or if the last one was
// (a heap profile shows the last collection whose sweep is done: taken
// right after the peak's, it may show the collection before).
func (p *heapPeak) sample() {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done {
		return
	}
	if live := s[0].Value.Uint64(); live > p.max || p.again {
		p.again = live > p.max
		p.max = max(p.max, live)
		p.buf.Reset()
		if err := pprof.Lookup("heap").WriteTo(&p.buf, 0); err != nil {
			fmt.Fprintf(p.stderr, "lettrage: taking the peak heap profile: %v\n", err)
		}
	}
	p.arm()
}

func (p *heapPeak) write() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done = true
	if err := os.WriteFile(p.path, p.buf.Bytes(), 0o600); err != nil {
		fmt.Fprintf(p.stderr, "lettrage: writing the peak heap profile: %v\n", err)
		return
	}
	fmt.Fprintf(p.stderr, "lettrage: peak live heap %d MB (LETTRAGE_HEAPPEAK %s)\n", p.max>>20, p.path)
}
