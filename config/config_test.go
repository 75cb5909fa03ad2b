package config

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/lettrage/lettrage/domain"
	"github.com/lettrage/lettrage/matcher"
)

var update = flag.Bool("update", false, "rewrite golden files")

const secretDSN = "postgres://lettrage:s3cr3t-PW@db:5432/lettrage"

func setTestEnv(t *testing.T) {
	t.Helper()
	t.Setenv("LETTRAGE_TEST_ROOT", "/srv/lettrage")
	t.Setenv("LETTRAGE_TEST_LEVEL", "debug")
	os.Unsetenv("LETTRAGE_TEST_UNSET")
}

// TestGood loads every good fixture and compares its effective
// configuration (String, paths relative to the fixture folder) with a
// golden file.
func TestGood(t *testing.T) {
	setTestEnv(t)
	files, _ := filepath.Glob(filepath.Join("testdata", "good", "*.yaml"))
	if len(files) == 0 {
		t.Fatal("no good fixtures")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			c, err := Load(f)
			if err != nil {
				t.Fatal(err)
			}
			out := c.String()
			if strings.Contains(out, "s3cr3t") {
				t.Fatalf("String() leaks a secret:\n%s", out)
			}
			abs, _ := filepath.Abs("testdata")
			out = strings.ReplaceAll(out, abs, "<testdata>") + "\n"
			golden := strings.TrimSuffix(f, ".yaml") + ".golden.json"
			if *update {
				if err := os.WriteFile(golden, []byte(out), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if out != string(want) {
				t.Fatalf("effective config differs from %s (run with -update after checking):\n%s", golden, out)
			}
		})
	}
}

// TestBad checks that every bad fixture fails with each of the error
// substrings its leading "# want:" lines list.
func TestBad(t *testing.T) {
	setTestEnv(t)
	files, _ := filepath.Glob(filepath.Join("testdata", "bad", "*.yaml"))
	if len(files) == 0 {
		t.Fatal("no bad fixtures")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var wants []string
			for _, line := range strings.Split(string(data), "\n") {
				w, ok := strings.CutPrefix(line, "# want: ")
				if !ok {
					break
				}
				wants = append(wants, w)
			}
			if len(wants) == 0 {
				t.Fatal("fixture has no leading # want: line")
			}
			c, err := Load(f)
			if err == nil {
				t.Fatalf("loaded:\n%s", c)
			}
			t.Logf("%v", err)
			for _, w := range wants {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
			if strings.Contains(err.Error(), "s3cr3t") || strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error leaks a secret:\n%v", err)
			}
			var ve *ValidationError
			if !strings.HasPrefix(wants[0], "parsing YAML") {
				if !errors.As(err, &ve) {
					t.Fatalf("error is not a *ValidationError: %v", err)
				}
				if len(ve.Problems) < len(wants) {
					t.Errorf("%d problems, want at least %d", len(ve.Problems), len(wants))
				}
			}
		})
	}
}

// TestExampleConfig loads the example shipped in deploy/examples.
func TestExampleConfig(t *testing.T) {
	p := filepath.Join("..", "deploy", "examples", "local.yaml")
	if _, err := os.Stat(p); err != nil {
		t.Skipf("no example config: %v", err)
	}
	c, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Jobs) == 0 || localOf(c.Jobs[0].Source) == nil || !filepath.IsAbs(localOf(c.Jobs[0].Source).Dir) {
		t.Fatalf("example config = %s", c)
	}
}

func TestDefaults(t *testing.T) {
	c, err := Parse([]byte(`
jobs:
  - name: a
    schedule: "@every 10m"
    source: {type: local, local: {dir: in}}
    ledger: {type: file, file: {open_items: items.csv, journal: /abs/m.csv}}
`), "/base")
	if err != nil {
		t.Fatal(err)
	}
	j := c.Jobs[0]
	checks := []struct{ name, got, want string }{
		{"log.level", c.Log.Level, "info"},
		{"log.format", c.Log.Format, "text"},
		{"http.listen", c.HTTP.Listen, "127.0.0.1:9464"},
		{"state.driver", c.State.Driver, "sqlite"},
		{"state.sqlite.path", c.State.SQLite.Path, "/base/out/state.db"},
		{"local.dir", localOf(j.Source).Dir, "/base/in"},
		{"open_items", fileOf(j.Ledger).OpenItems, "/base/items.csv"},
		{"journal", fileOf(j.Ledger).Journal, "/abs/m.csv"},
		{"reports.dir", j.Reports.Dir, "/base/out"},
		{"same_amount", j.Matching.SameAmount, "oldest"},
	}
	for _, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("%s = %q, want %q", ch.name, ch.got, ch.want)
		}
	}
	if j.Source.MaxFileBytes != 256<<20 {
		t.Errorf("max_file_bytes = %d", j.Source.MaxFileBytes)
	}
	mc := j.Matching.MatcherConfig()
	def := matcher.DefaultConfig()
	if mc.AutoThreshold != def.AutoThreshold || mc.MaxCombination != def.MaxCombination || mc.MaxCandidates != def.MaxCandidates ||
		mc.SuggestThreshold != def.SuggestThreshold || mc.DueWindowDays != 0 || len(mc.Tolerances) != 0 {
		t.Errorf("MatcherConfig() = %+v, want the defaults %+v", mc, def)
	}
	if got := (Matching{}).MatcherConfig(); got.AutoThreshold != def.AutoThreshold || got.SameAmount != def.SameAmount {
		t.Errorf("zero Matching gives %+v", got)
	}
}

func TestHTTPDisabled(t *testing.T) {
	c, err := Parse([]byte(`
http: {listen: ""}
jobs: [{name: a, schedule: "@hourly", source: {type: local, local: {dir: in}}, ledger: {type: file, file: {open_items: i.csv, journal: m.csv}}}]
`), "/b")
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTP.Listen != "" {
		t.Fatalf("listen = %q, want disabled", c.HTTP.Listen)
	}
}

func TestMatchingExact(t *testing.T) {
	setTestEnv(t)
	c, err := Load(filepath.Join("testdata", "good", "full.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	mc := c.Jobs[0].Matching.MatcherConfig()
	if mc.AutoThreshold != 0.95 || mc.SuggestThreshold != 0.25 || mc.MaxCandidates != 5 || mc.SameAmount != "suggest" ||
		mc.MaxCombination != 4 || mc.DueWindowDays != 60 || len(mc.Tolerances) != 2 {
		t.Fatalf("MatcherConfig() = %+v", mc)
	}
	tol := mc.Tolerances[0]
	if tol.Currency != "EUR" || tol.Absolute.String() != domain.MustAmount("5.00").String() || !tol.Percent.Equal(domain.MustAmount("0.5")) {
		t.Errorf("tolerance = %+v", tol)
	}
	// An unquoted YAML float keeps its exact decimal text.
	if !mc.Tolerances[1].Absolute.Equal(domain.MustAmount("1.10")) {
		t.Errorf("tolerance[1].absolute = %v", mc.Tolerances[1].Absolute)
	}
	if len(mc.FX) != 2 || mc.FX[0] != (matcher.FXRule{ItemCurrency: "USD", CashCurrency: "EUR", TolerancePercent: mc.FX[0].TolerancePercent}) ||
		!mc.FX[0].TolerancePercent.Equal(domain.MustAmount("0.1")) || mc.FX[1].ItemCurrency != "GBP" || !mc.FX[1].TolerancePercent.IsZero() {
		t.Errorf("fx = %+v", mc.FX)
	}
	if len(mc.CashDiscounts) != 1 || mc.CashDiscounts[0].Account != "665" || mc.CashDiscounts[0].Reason != "ESCOMPTE" ||
		!mc.CashDiscounts[0].MaxPercent.Equal(domain.MustAmount("3")) || !mc.CashDiscounts[0].MaxAmount.Equal(domain.MustAmount("500")) {
		t.Errorf("cash_discount = %+v", mc.CashDiscounts)
	}
	if mc.Overpayment != matcher.PolicyOnAccount || mc.DuplicatePayment != matcher.PolicyException {
		t.Errorf("overpayment %q, duplicate_payment %q: want on_account and the default exception", mc.Overpayment, mc.DuplicatePayment)
	}
	j := c.Jobs[0]
	if j.Source.MaxFileBytes != 1<<20 || localOf(j.Source).Dir != "/srv/lettrage/in" || !localOf(j.Source).Recursive {
		t.Errorf("source = %+v %+v", j.Source, localOf(j.Source))
	}
	if got := j.Source.ExtraXPath; len(got) != 2 || got[1] != "concat('$', ./AcctSvcrRef)" {
		t.Errorf("extra_xpath = %q ($$ must escape $)", got)
	}
	if c.Log.Level != "debug" || c.HTTP.Listen != "0.0.0.0:9090" {
		t.Errorf("log = %+v http = %+v", c.Log, c.HTTP)
	}
	if c.State.Postgres.DSN != secretDSN {
		t.Errorf("dsn from dsn_file = %q (one trailing newline trimmed)", c.State.Postgres.DSN)
	}
}

func TestSecretsStayHidden(t *testing.T) {
	setTestEnv(t)
	c, err := Load(filepath.Join("testdata", "good", "full.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for name, s := range map[string]string{
		"String": c.String(), "%v": sprint("%v", c), "%+v": sprint("%+v", *c), "%#v state": sprint("%#v", c.State),
		"postgres %+v": sprint("%+v", c.State.Postgres),
	} {
		if strings.Contains(s, "s3cr3t") {
			t.Errorf("%s leaks the DSN: %s", name, s)
		}
	}
	h := c.Hash()
	c.State.Postgres.DSN = "postgres://other:password@db/x"
	if c.Hash() != h {
		t.Error("Hash depends on a secret value")
	}
}

func TestHash(t *testing.T) {
	base := `
jobs:
  - name: a
    schedule: "@every 1h"
    source: {type: local, local: {dir: in}}
    ledger: {type: file, file: {open_items: i.csv, journal: m.csv}}
`
	reordered := `
jobs:
  - ledger:
      file: {journal: m.csv, open_items: i.csv}
      type: file
    source: {local: {dir: in}, type: local}
    schedule: "@every 1h"   # a comment
    name: a
log: {level: info}          # the default, written out
`
	changed := strings.Replace(base, "1h", "2h", 1)
	hash := func(s string) string {
		c, err := Parse([]byte(s), "/b")
		if err != nil {
			t.Fatal(err)
		}
		return c.Hash()
	}
	h := hash(base)
	if len(h) != 64 {
		t.Fatalf("Hash() = %q, want 64 hex digits", h)
	}
	if hash(reordered) != h {
		t.Error("Hash changed with key order, comments or written-out defaults")
	}
	if hash(changed) == h {
		t.Error("Hash did not change with the schedule")
	}
	c1, _ := Parse([]byte(base), "/b")
	c2, _ := Parse([]byte(base), "/other")
	if c1.Hash() == c2.Hash() {
		t.Error("Hash ignores resolved paths")
	}
}

func TestExpand(t *testing.T) {
	env := map[string]string{"A": "alpha", "EMPTY": "", "N_1": "one"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	tests := []struct {
		in, want, errContains string
	}{
		{"plain", "plain", ""},
		{"${A}", "alpha", ""},
		{"x-${A}-${N_1}", "x-alpha-one", ""},
		{"${MISSING:-dflt}", "dflt", ""},
		{"${EMPTY:-dflt}", "dflt", ""},
		{"${EMPTY}", "", ""},
		{"${A:-dflt}", "alpha", ""},
		{"$$", "$", ""},
		{"$${A}", "${A}", ""},
		{"cost $5 and $x", "cost $5 and $x", ""},
		{"trailing $", "trailing $", ""},
		{"${MISSING}", "", "environment variable not set: MISSING"},
		{"${A", "", "unterminated ${"},
		{"${1A}", "", `invalid variable name "1A"`},
		{"${}", "", "invalid variable name"},
	}
	for _, tt := range tests {
		got, err := expand(tt.in, lookup)
		if tt.errContains != "" {
			if err == nil || !strings.Contains(err.Error(), tt.errContains) {
				t.Errorf("expand(%q) err = %v, want %q", tt.in, err, tt.errContains)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("expand(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	if _, err := expand("${MISSING}", lookup); !errors.Is(err, ErrUnsetVariable) {
		t.Errorf("err = %v, want ErrUnsetVariable", err)
	}
}

func TestSecretFileTrimming(t *testing.T) {
	files := map[string]string{"/s/crlf": "pw\r\n", "/s/two": "pw\n\n", "/s/none": "pw"}
	read := func(p string) ([]byte, error) {
		if v, ok := files[p]; ok {
			return []byte(v), nil
		}
		return nil, os.ErrNotExist
	}
	for path, want := range map[string]string{"/s/crlf": "pw", "/s/two": "pw\n", "/s/none": "pw"} {
		c, err := parse([]byte(`
state: {driver: postgres, postgres: {dsn_file: `+path+`}}
jobs: [{name: a, schedule: "@hourly", source: {type: local, local: {dir: in}}, ledger: {type: file, file: {open_items: i.csv, journal: m.csv}}}]
`), "/b", func(string) (string, bool) { return "", false }, read)
		if err != nil {
			t.Fatal(err)
		}
		if c.State.Postgres.DSN != want {
			t.Errorf("%s: dsn = %q, want %q", path, c.State.Postgres.DSN, want)
		}
	}
}

func TestScheduleSpec(t *testing.T) {
	tests := []struct {
		in    string
		cron  string
		every time.Duration
	}{
		{"@every 15m", "", 15 * time.Minute},
		{" @every 1h30m ", "", 90 * time.Minute},
		{"*/15 7-20 * * 1-5", "*/15 7-20 * * 1-5", 0},
		{"@daily", "@daily", 0},
	}
	for _, tt := range tests {
		cron, every := Job{Schedule: tt.in}.ScheduleSpec()
		if cron != tt.cron || every != tt.every {
			t.Errorf("ScheduleSpec(%q) = %q, %v; want %q, %v", tt.in, cron, every, tt.cron, tt.every)
		}
		if err := checkSchedule(tt.in); err != nil {
			t.Errorf("checkSchedule(%q) = %v", tt.in, err)
		}
	}
}

func TestAliasBudget(t *testing.T) {
	var b strings.Builder
	b.WriteString("x: &t {currency: EUR, absolute: 1}\nj: &j\n  name: a\n  schedule: \"@hourly\"\n  matching:\n    tolerances: [")
	for i := 0; i < 1000; i++ {
		b.WriteString("*t,")
	}
	b.WriteString("]\njobs: [")
	for i := 0; i < 1000; i++ {
		b.WriteString("*j,")
	}
	b.WriteString("]\n")
	_, err := Parse([]byte(b.String()), "/b")
	if err == nil || !strings.Contains(err.Error(), "too many values") {
		t.Fatalf("err = %.300v", err)
	}
}

// connector is shaped like the sftp and s3 source configurations: a
// duration, and a secret with a _file sibling but no tags.
type connector struct {
	Timeout      time.Duration `yaml:"timeout"`
	Password     string        `yaml:"password"`
	PasswordFile string        `yaml:"password_file"`
	Retries      int           `yaml:"retries"`
}

func TestGenericConnectorBlock(t *testing.T) {
	decode := func(src string) (connector, *decoder) {
		var n yaml.Node
		if err := yaml.Unmarshal([]byte(src), &n); err != nil {
			t.Fatal(err)
		}
		d := &decoder{baseDir: "/etc/lettrage", lines: map[string]int{},
			env: func(string) (string, bool) { return "", false },
			readFile: func(p string) ([]byte, error) {
				if p != "/etc/lettrage/pw.txt" {
					return nil, fmt.Errorf("open %s: %w", p, os.ErrNotExist)
				}
				return []byte("hunter2\n"), nil
			}}
		var c connector
		d.decode(&n, reflectValue(&c), "src")
		d.finish(reflectValue(&c), "src")
		return c, d
	}
	c, d := decode("timeout: 1m30s\npassword_file: pw.txt\nretries: 3\n")
	if len(d.problems) > 0 {
		t.Fatalf("problems: %v", d.problems)
	}
	if c.Timeout != 90*time.Second || c.Password != "hunter2" || c.PasswordFile != "" || c.Retries != 3 {
		t.Fatalf("decoded %+v", c)
	}
	out := fmt.Sprint(canonical(reflectValue(&c)))
	if strings.Contains(out, "hunter2") || !strings.Contains(out, "1m30s") {
		t.Fatalf("canonical form = %s", out)
	}
	_, d = decode("timeout: 90\n")
	if len(d.problems) != 1 || !strings.Contains(d.problems[0].String(), `src.timeout: want a duration such as 30s or 5m, got "90"`) {
		t.Fatalf("problems = %v", d.problems)
	}
}

func TestValidationErrorFormat(t *testing.T) {
	e := &ValidationError{Problems: []Problem{{Path: "a.b", Msg: "required", Line: 3}, {Path: "c", Msg: "bad"}}}
	if got, want := e.Error(), "a.b: required (line 3)\nc: bad"; got != want {
		t.Fatalf("Error() = %q, want %q", got, want)
	}
}

func FuzzParse(f *testing.F) {
	for _, dir := range []string{"good", "bad"} {
		files, _ := filepath.Glob(filepath.Join("testdata", dir, "*.yaml"))
		for _, file := range files {
			if data, err := os.ReadFile(file); err == nil {
				f.Add(string(data))
			}
		}
	}
	f.Add("jobs: &a [*a]")
	f.Fuzz(func(t *testing.T, data string) {
		env := func(string) (string, bool) { return "v", true }
		read := func(string) ([]byte, error) { return []byte("secret-value"), nil }
		c, err := parse([]byte(data), "/base", env, read)
		if err != nil {
			if c != nil {
				t.Fatal("config returned with an error")
			}
			if strings.Contains(err.Error(), "secret-value") {
				t.Fatalf("error leaks a secret: %v", err)
			}
			return
		}
		if len(c.Jobs) == 0 {
			t.Fatal("accepted a config without jobs")
		}
		if strings.Contains(c.String(), "secret-value") {
			t.Fatal("String leaks a secret")
		}
		_ = c.Hash()
	})
}

func sprint(format string, v any) string { return fmt.Sprintf(format, v) }
