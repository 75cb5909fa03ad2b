// Command lettrage-bench generates benchmark data for Lettrage and scores
// its results: an open-items book with CAMT statements and the ground
// truth (gen), the quality of a `lettrage match` run against that truth
// (score), and large CAMT files for reader benchmarks (camt). See
// docs/BENCHMARKS.md.
package main

import "os"

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }
