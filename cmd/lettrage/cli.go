package main

// Command-line habits shared by every command (issue 17): -h exits 0,
// flags are accepted after the positional arguments, LETTRAGE_CONFIG
// names the configuration when -c is not given, and every log line
// honours log.format.

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/lettrage/lettrage/config"
	"github.com/lettrage/lettrage/pipeline"
	"github.com/lettrage/lettrage/pipeline/decide"
)

// ConfigEnv names the environment variable read for the configuration file
// when -c is not given.
const ConfigEnv = "LETTRAGE_CONFIG"

// parseArgs parses flags anywhere among the arguments (`unletter -c F TX
// --reason x`); "--" ends the flags. It returns the positional arguments.
// -h/--help prints the command's flags on stdout: ok is false and code 0;
// a bad flag prints them on stderr: code 2.
func parseArgs(fs *flag.FlagSet, args []string, stdout, stderr io.Writer) (pos []string, code int, ok bool) {
	var out bytes.Buffer
	fs.SetOutput(&out)
	for {
		err := fs.Parse(args)
		if errors.Is(err, flag.ErrHelp) {
			_, _ = stdout.Write(out.Bytes())
			return nil, exitOK, false
		}
		if err != nil {
			_, _ = stderr.Write(out.Bytes())
			return nil, exitUsage, false
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, exitOK, true
		}
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(pos, rest...), exitOK, true
		}
		pos, args = append(pos, rest[0]), rest[1:]
	}
}

// configFlag registers -c/--config on fs, defaulting to $LETTRAGE_CONFIG.
func configFlag(fs *flag.FlagSet) *string {
	def := os.Getenv(ConfigEnv)
	path := fs.String("c", def, "config file (YAML); default $"+ConfigEnv)
	fs.StringVar(path, "config", def, "config file (YAML); default $"+ConfigEnv)
	return path
}

// useLogger makes log the default logger too, so that a connector or a
// library logging through slog or the log package writes in the
// configured format (and with IBANs masked).
func useLogger(cfg config.Log, w io.Writer) *slog.Logger {
	log := newLogger(cfg, w)
	slog.SetDefault(log)
	return log
}

// exitFor prints how a command's error ends and returns its exit code
// (pipeline.ExitCode; interrupted when the context was cancelled).
func exitFor(cmd string, err error, interrupted bool, stderr io.Writer) int {
	if err == nil {
		return exitOK
	}
	code := pipeline.ExitCode(err)
	if interrupted {
		code = exitInterrupted
	}
	fmt.Fprintf(stderr, "lettrage %s: %s%s\n", cmd, decide.MaskIBANs(err.Error()), exitHint(code))
	return code
}

// exitHint says in a few words what an exit code means to the reader.
func exitHint(code int) string {
	switch code {
	case exitUnavailable:
		return " (exit 3: unreachable; nothing decided for that job, the next run resumes)"
	case exitInterrupted:
		return " (interrupted: the pass was rolled back, the next run resumes)"
	}
	return ""
}
