package main

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lettrage/lettrage/internal/testenv"
)

// runsTotal sums lettrage_runs_total over results on a replica's /metrics
// (-1 when the replica does not answer).
func runsTotal(addr string) float64 {
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	total := 0.0
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "lettrage_runs_total{") {
			f := strings.Fields(line)
			v, _ := strconv.ParseFloat(f[len(f)-1], 64)
			total += v
		}
	}
	return total
}

// TestReplicasOnPostgres runs three daemons on one PostgreSQL state store:
// only the elected leader runs the job, killing it (kill -9) hands the job to
// another replica, and no allocation is ever written twice.
func TestReplicasOnPostgres(t *testing.T) {
	pg := testenv.StartPostgres(t)
	dsn := pg.Database(t)

	base := example(t, func(c string) string {
		c = strings.Replace(c, `schedule: "@every 15m"`, `schedule: "@every 1s"`, 1)
		return strings.Replace(c, "state:\n  driver: sqlite\n  sqlite:\n    path: out/state.db",
			"state:\n  driver: postgres\n  postgres:\n    dsn: ${TEST_PG_DSN}", 1)
	})
	dir := filepath.Dir(base)
	data, _ := os.ReadFile(base)
	if !strings.Contains(string(data), "driver: postgres") {
		t.Fatalf("config not switched to postgres:\n%s", data)
	}

	type replica struct {
		addr string
		cmd  *exec.Cmd
		log  *bytes.Buffer
	}
	var reps []*replica
	for i := 0; i < 3; i++ {
		addr := freePort(t)
		cfg := filepath.Join(dir, "replica"+strconv.Itoa(i)+".yaml")
		if err := os.WriteFile(cfg, []byte(strings.Replace(string(data), "listen: 127.0.0.1:9464", "listen: "+addr, 1)), 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(binary, "run", "-c", cfg)
		cmd.Env = append(os.Environ(), "TEST_PG_DSN="+dsn)
		r := &replica{addr: addr, cmd: cmd, log: &bytes.Buffer{}}
		cmd.Stderr = r.log
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() { _ = cmd.Process.Kill() }() // the replica may have been killed or stopped already
		reps = append(reps, r)
	}
	runs := func() []float64 {
		out := make([]float64, len(reps))
		for i, r := range reps {
			if r.cmd.ProcessState != nil {
				out[i] = -1
				continue
			}
			out[i] = runsTotal(r.addr)
		}
		return out
	}
	logs := func() string {
		var b strings.Builder
		for i, r := range reps {
			b.WriteString("--- replica " + strconv.Itoa(i) + "\n" + r.log.String())
		}
		return b.String()
	}
	waitFor := func(what string, cond func([]float64) bool) []float64 {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for time.Now().Before(deadline) {
			if r := runs(); cond(r) {
				return r
			}
			time.Sleep(200 * time.Millisecond)
		}
		t.Fatalf("timed out waiting for %s: runs %v\n%s", what, runs(), logs())
		return nil
	}

	// Several ticks go by: one replica, the leader, runs them all.
	r := waitFor("three runs", func(r []float64) bool { return r[0]+r[1]+r[2] >= 3 })
	leader := -1
	for i, n := range r {
		if n > 0 {
			if leader >= 0 {
				t.Fatalf("two replicas ran the job: runs %v", r)
			}
			leader = i
		}
	}
	out := filepath.Join(dir, "out")
	checkExampleOutputs(t, out)

	// The leader dies without a word; another replica takes over.
	if err := reps[leader].cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = reps[leader].cmd.Wait() // "signal: killed", as meant
	before := runs()
	waitFor("a new leader", func(r []float64) bool {
		for i, n := range r {
			if i != leader && n > before[i] {
				return true
			}
		}
		return false
	})
	// A new statement arrives and is lettered once, by the new leader.
	copyFile(t, filepath.Join(dir, "statements", "2026-11-16_camt053_v02.xml"), filepath.Join(dir, "statements", "again.xml"))
	time.Sleep(1500 * time.Millisecond)
	checkExampleOutputs(t, out)
	rows := readCSV(t, filepath.Join(out, "matches.csv"))
	keys := columns(t, rows, "decision_key", "open_item_id")
	for i := 1; i < len(keys); i++ {
		if keys[i] == keys[i-1] {
			t.Fatalf("allocation written twice: %s", keys[i])
		}
	}
	for i, rep := range reps {
		if i == leader {
			continue
		}
		_ = rep.cmd.Process.Signal(syscall.SIGTERM) // if the replica has exited already, Wait below says how
		if err := rep.cmd.Wait(); err != nil {
			t.Errorf("replica %d exit after SIGTERM: %v\n%s", i, err, rep.log.String())
		}
	}
}
