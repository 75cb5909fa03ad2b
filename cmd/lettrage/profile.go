package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
)

// startProfiles starts the profiles the environment asks for, for
// measuring a command (docs/BENCHMARKS.md): LETTRAGE_CPUPROFILE names the
// CPU profile's file, LETTRAGE_MEMPROFILE the heap profile's (written when
// the command ends). The returned function stops and writes them.
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
	return func() {
		if cpu != nil {
			pprof.StopCPUProfile()
			cpu.Close()
		}
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
