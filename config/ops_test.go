package config

import (
	"strings"
	"testing"
)

// TestScheduleThatNeverFires: `check` refuses what the scheduler of `run`
// would refuse, naming the field.
func TestScheduleThatNeverFires(t *testing.T) {
	for sched, want := range map[string]string{
		"0 0 31 2 *":        `jobs[0].schedule: cron expression "0 0 31 2 *" never fires`,
		"0 0 30 2 *":        `jobs[0].schedule: cron expression "0 0 30 2 *" never fires`,
		"61 * * * *":        `jobs[0].schedule: invalid cron expression "61 * * * *"`,
		"0 0 29 2 *":        "", // leap years
		"*/15 7-20 * * 1-5": "",
		"@daily":            "",
		"@every 10m":        "",
	} {
		_, err := Parse([]byte(`
jobs: [{name: a, schedule: "`+sched+`", source: {type: local, local: {dir: in}}, ledger: {type: file, file: {open_items: i.csv, journal: m.csv}}}]
`), "/b")
		switch {
		case want == "" && err != nil:
			t.Errorf("%q: %v, want accepted", sched, err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
			t.Errorf("%q: %v, want %q", sched, err, want)
		}
	}
}

// TestValueLimitIsTheOnlyProblem: a file over the value limit says so,
// without the "required" problems of what was not decoded.
func TestValueLimitIsTheOnlyProblem(t *testing.T) {
	var b strings.Builder
	b.WriteString("jobs:\n  - name: a\n    schedule: \"@hourly\"\n    accounts: [")
	for i := 0; i < maxNodes; i++ {
		b.WriteString("{iban: x, name: y},")
	}
	b.WriteString("]\n    source: {type: local, local: {dir: in}}\n    ledger: {type: file, file: {open_items: i.csv, journal: m.csv}}\n")
	_, err := Parse([]byte(b.String()), "/b")
	if err == nil || !strings.Contains(err.Error(), "too many values") {
		t.Fatalf("err = %.300v, want the value limit", err)
	}
	if strings.Contains(err.Error(), "required") || strings.Count(err.Error(), "\n") > 0 {
		t.Errorf("misleading problems besides the limit: %.500v", err)
	}
}
