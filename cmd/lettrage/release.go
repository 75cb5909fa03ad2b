package main

import (
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/lettrage/lettrage/pipeline"
)

// cmdRelease lists the refused statement files the jobs hold, or releases
// some: their refusal is forgotten and the next pass reads them again
// (docs/RUNBOOK.md, LettrageStatementFilesHeld). A file is named by its
// path as the source listed it, by its SHA-256 (or a prefix of at least 12
// hex digits), or as a local file whose content is hashed.
func cmdRelease(args []string, stdout, stderr io.Writer) int {
	var jobName string
	var all bool
	c, code, ok := loadConfig("release", args, stdout, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&jobName, "job", "", "the job holding the files (default: every job)")
		fs.BoolVar(&all, "all", false, "release every file the job(s) hold")
	})
	if !ok {
		return code
	}
	if all && len(c.args) > 0 {
		fmt.Fprintln(stderr, "lettrage release: --all or files, not both")
		return exitUsage
	}
	ctx, stop := signalContext()
	defer stop()
	svc, code := newService("release", c.cfg, useLogger(c.cfg.Log, stderr), stderr)
	if svc == nil {
		return code
	}
	defer svc.Close()
	var jobs []*pipeline.Job
	for _, j := range svc.Jobs {
		if jobName == "" || j.Name == jobName {
			jobs = append(jobs, j)
		}
	}
	if len(jobs) == 0 {
		fmt.Fprintf(stderr, "lettrage release: no job %q in the configuration\n", jobName)
		return exitUsage
	}
	if !all && len(c.args) == 0 {
		// List what is held.
		n := 0
		for _, j := range jobs {
			held, err := svc.Store.HeldFiles(ctx, j.Name)
			if err != nil {
				return exitFor("release", err, ctx.Err() != nil, stderr)
			}
			for _, f := range held {
				fmt.Fprintf(stdout, "%s\t%s\t%s\t%s\t%s\n", j.Name, f.Path, f.Hash, f.At.Format(time.RFC3339), f.Reason)
				n++
			}
		}
		fmt.Fprintf(stderr, "%d file(s) held; `lettrage release -c FILE PATH|SHA256` reads one again\n", n)
		return exitOK
	}
	matches := c.args
	if all {
		matches = []string{""}
	}
	code = exitOK
	for _, m := range matches {
		keys := []string{m}
		if m != "" {
			if h, err := hashFile(m); err == nil {
				keys = append(keys, h) // a local copy of the file: by content too
			}
		}
		released := 0
		for _, j := range jobs {
			for _, k := range keys {
				files, err := svc.Store.Release(ctx, j.Name, k)
				if err != nil {
					return exitFor("release", err, ctx.Err() != nil, stderr)
				}
				for _, f := range files {
					fmt.Fprintf(stdout, "released %s %s (%s): read again by the next pass\n", j.Name, f.Path, f.Hash[:16])
					released++
				}
			}
		}
		if released == 0 && m != "" {
			fmt.Fprintf(stderr, "lettrage release: %s: no held file by that path or content\n", m)
			code = exitUsage
		}
	}
	return code
}

func hashFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		return "", fmt.Errorf("hashing %q: not a regular file", path)
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("hashing %q: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
