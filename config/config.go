// Package config loads Lettrage's YAML configuration: `${ENV}` expansion in
// values, `*_file` secrets, defaults, relative paths resolved against the
// configuration file's folder, and a validation that names the field path
// of every problem (`jobs[0].source.local.dir: required`). Unknown keys are
// errors.
//
// The schema, with the defaults:
//
//	log:   {level: info, format: text}     # debug|info|warn|error; text|json
//	http:  {listen: "127.0.0.1:9464"}      # "" disables the HTTP server
//	state:
//	  driver: sqlite                       # sqlite | postgres
//	  sqlite: {path: out/state.db}
//	  postgres: {dsn: "", dsn_file: ""}    # the DSN is a secret
//	jobs:                                  # at least one
//	  - name: example                      # [a-z0-9_-]+, unique
//	    schedule: "@every 1h"              # or 5-field cron, or @daily…
//	    source:
//	      type: local                      # exactly the block of the type is set
//	      local: {dir: statements, pattern: "*.xml", recursive: false,
//	              archive_dir: "", quarantine_dir: ""}
//	      extra_xpath: []
//	      max_file_bytes: 268435456
//	    ledger:
//	      type: file
//	      file: {open_items: open_items.csv, journal: out/matches.csv}
//	    reports: {dir: out}
//	    matching:                          # defaults: matcher.DefaultConfig()
//	      auto_threshold: 0.9
//	      suggest_threshold: 0.3
//	      max_candidates: 3
//	      same_amount: oldest              # oldest | suggest
//	      max_combination: 6               # 1..12
//	      due_window_days: 0
//	      tolerances: [{currency: EUR, absolute: "5.00", percent: "0.5"}]
//	      fx: [{item_currency: USD, cash_currency: EUR, tolerance_percent: "0.1"}]
//	      cash_discount: [{currency: EUR, max_percent: "3", max_amount: "", account: "665", reason: ESCOMPTE}]
//	      overpayment: exception           # exception | on_account
//	      duplicate_payment: exception     # exception | on_account
//
// Any scalar may use ${NAME} or ${NAME:-default} (the default also applies
// when NAME is empty); $$ is a literal $. A key x_file next to a key x
// names a file whose content (less one trailing newline) becomes x; x_file
// is then emptied, so connectors only ever see x. Such an x is a secret.
//
// The package names no connector. The types of source.type and ledger.type,
// and the blocks beside them, are those registered in connectors.Sources and
// connectors.Ledgers: each block is decoded into its connector's own Config
// and checked by its Validate. The program imports the connectors it offers
// (cmd/lettrage imports connectors/all) before it loads a configuration.
package config

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/lettrage/lettrage/connectors"
	"github.com/lettrage/lettrage/connectors/source/compress"
	"github.com/lettrage/lettrage/domain"
	"github.com/lettrage/lettrage/matcher"
)

// Struct tags read by this package besides `yaml`:
//
//	lettrage:"path"    a file or folder path, resolved against the folder
//	                   of the configuration file when relative (every
//	                   x_file key is a path too, tagged or not)
//	lettrage:"secret"  a secret: never in Hash, String or error messages
//	                   (every string x with an x_file sibling is one too)
//
// A connector's Config needs no more than yaml tags; time.Duration fields
// take Go durations ("30s").

// Config is the whole configuration.
type Config struct {
	Log   Log   `yaml:"log"`
	HTTP  HTTP  `yaml:"http"`
	State State `yaml:"state"`
	Jobs  []Job `yaml:"jobs"`
}

// Log configures the slog logger.
type Log struct {
	Level  string `yaml:"level"`  // debug | info | warn | error (default info)
	Format string `yaml:"format"` // text | json (default text)
}

// HTTP configures the server of /metrics, /healthz and /readyz.
type HTTP struct {
	// Listen is host:port (default 127.0.0.1:9464); "" disables the server.
	Listen string `yaml:"listen"`
}

// State configures the state store.
type State struct {
	Driver   string   `yaml:"driver"` // sqlite (default) | postgres
	SQLite   SQLite   `yaml:"sqlite"`
	Postgres Postgres `yaml:"postgres"`
	// PersonalDataDays, when > 0, erases payers' names, IBANs and remittance
	// text from settled transactions this many days after they were first
	// seen (GDPR minimisation); amounts, references, decisions and the
	// audit trail stay. Open exceptions keep their data until settled.
	PersonalDataDays int `yaml:"personal_data_days"`
	// RetentionDays, when > 0, compacts settled history this many days
	// after it last changed (at least 400: the window of a SEPA return):
	// the payer's details, remittance text and item snapshots go; the
	// audit trail (decisions, rules, confidences, config hash, who, when),
	// file hashes and transaction identities stay. 0 (the default) keeps
	// everything. docs/CONFIG.md.
	RetentionDays int `yaml:"retention_days"`
}

// SQLite is the embedded state store.
type SQLite struct {
	Path string `yaml:"path" lettrage:"path"` // default out/state.db
}

// Postgres is the shared state store for several replicas.
type Postgres struct {
	DSN     string `yaml:"dsn" lettrage:"secret"`
	DSNFile string `yaml:"dsn_file" lettrage:"path"`
}

// String hides the DSN, which holds a password.
func (p Postgres) String() string {
	return fmt.Sprintf("{dsn:%s dsn_file:%s}", redact(p.DSN), p.DSNFile)
}

// GoString hides the DSN from %#v too.
func (p Postgres) GoString() string { return "config.Postgres" + p.String() }

// Job is one lettering job: a statement source, a ledger and a schedule.
type Job struct {
	Name     string   `yaml:"name"`     // [a-z0-9_-]+, unique
	Schedule string   `yaml:"schedule"` // "@every <duration>" or a 5-field cron expression
	Source   Source   `yaml:"source"`
	Ledger   Ledger   `yaml:"ledger"`
	Reports  Reports  `yaml:"reports"`
	Matching Matching `yaml:"matching"`
	// Resolutions, when set, is an inbox of exceptions workbooks edited by
	// accountants (any source type); each run applies the workbooks found
	// there before matching, writes a result file per workbook and files
	// the workbook away like a statement.
	Resolutions *Source `yaml:"resolutions"`
	// ResolutionsInbox tunes the resolutions inbox (stability, author).
	ResolutionsInbox Inbox `yaml:"resolutions_inbox"`
	// WriteOffLimits caps, per currency, what one accountant's write_off
	// resolution may write off (its items' write-offs and the written-off
	// cash together); currencies not named keep the default of 100.
	// `lettrage resolve --allow-large-write-off` lifts the cap for one
	// command; workbooks from the inbox never can.
	WriteOffLimits []WriteOffLimit `yaml:"write_off_limits"`
	// BatchDetailsWait is how long a batch entry booked as one amount
	// without details (Btch/NbOfTxs > 1, no TxDtls) waits for the
	// notification that details it (a camt.054) before it is reported as
	// an exception (batch_without_details); default 48h.
	BatchDetailsWait time.Duration `yaml:"batch_details_wait"`
	// Accounts name the company's bank accounts; metrics label accounts by
	// these names, never by IBAN (an unnamed account shows its last four
	// characters only).
	Accounts []Account `yaml:"accounts"`
}

// WriteOffLimit is the write-off ceiling of one currency.
type WriteOffLimit struct {
	Currency string        `yaml:"currency"` // ISO 4217 code
	Max      domain.Amount `yaml:"max"`      // e.g. 250.00; 0 forbids write-offs in that currency
}

// WriteOffLimitMap returns the configured ceilings by currency.
func (j Job) WriteOffLimitMap() map[string]domain.Amount {
	if len(j.WriteOffLimits) == 0 {
		return nil
	}
	out := make(map[string]domain.Amount, len(j.WriteOffLimits))
	for _, l := range j.WriteOffLimits {
		out[l.Currency] = l.Max
	}
	return out
}

// Account names one of the company's bank accounts.
type Account struct {
	IBAN string `yaml:"iban"` // as on the statement (spaces ignored)
	Name string `yaml:"name"` // label value, e.g. "sg-main"
}

// AccountNames maps each configured account (normalised: upper case, no
// spaces) to its name.
func (j Job) AccountNames() map[string]string {
	out := make(map[string]string, len(j.Accounts))
	for _, a := range j.Accounts {
		out[normaliseAccount(a.IBAN)] = a.Name
	}
	return out
}

func normaliseAccount(s string) string {
	return strings.ToUpper(strings.Join(strings.Fields(s), ""))
}

// ScheduleSpec splits a validated schedule: every > 0 for "@every <d>",
// else cron holds the cron expression (or descriptor such as @daily).
func (j Job) ScheduleSpec() (cron string, every time.Duration) {
	if d, ok := strings.CutPrefix(strings.TrimSpace(j.Schedule), everyPrefix); ok {
		if every, err := time.ParseDuration(strings.TrimSpace(d)); err == nil {
			return "", every
		}
	}
	return strings.TrimSpace(j.Schedule), 0
}

// Source says where a job's statements come from. Exactly the block that
// Type names is set.
type Source struct {
	Type string `yaml:"type"` // a registered source type: local | sftp | s3
	// Blocks are the source blocks the YAML sets (source.local…), by type,
	// each decoded into the Config its connector registered
	// (connectors.Sources); a valid configuration sets Blocks[Type] only.
	Blocks map[string]connectors.Config `yaml:"-"`
	// Compression bounds what .gz and .zip deliveries may expand to.
	Compression compress.Limits `yaml:"compression"`
	// ExtraXPath are bank-specific XPath expressions evaluated on each
	// entry (validated by the camt package).
	ExtraXPath []string `yaml:"extra_xpath"`
	// MaxFileBytes bounds one statement file (default 256 MiB).
	MaxFileBytes int64 `yaml:"max_file_bytes"`
}

// Settings returns the block of the chosen type (e.g. a *local.Config), nil
// when it is not set.
func (s Source) Settings() connectors.Config { return s.Blocks[s.Type] }

// Ledger says which ledger a job reads open items from and writes to.
// Exactly the block that Type names is set.
type Ledger struct {
	Type string `yaml:"type"` // a registered ledger type: file | postgres | tryton | odoo
	// Blocks are the ledger blocks the YAML sets (ledger.odoo…), by type,
	// each decoded into the Config its connector registered
	// (connectors.Ledgers); a valid configuration sets Blocks[Type] only.
	Blocks map[string]connectors.Config `yaml:"-"`
}

// Settings returns the block of the chosen type (e.g. an *odoo.Config), nil
// when it is not set.
func (l Ledger) Settings() connectors.Config { return l.Blocks[l.Type] }

// kindRegistry is what the configuration needs of a connectors.Registry.
type kindRegistry interface {
	Port() string
	Kinds() []string
	NewConfig(kind string) (connectors.Config, bool)
	Unknown(kind string) string
	Want() string
}

// blockSet is a struct whose YAML keys are its fields' and, besides them,
// the blocks of the types of one registry (Source, Ledger).
type blockSet interface {
	registry() kindRegistry
	blocks() *map[string]connectors.Config
}

func (s *Source) registry() kindRegistry                { return connectors.Sources }
func (s *Source) blocks() *map[string]connectors.Config { return &s.Blocks }
func (l *Ledger) registry() kindRegistry                { return connectors.Ledgers }
func (l *Ledger) blocks() *map[string]connectors.Config { return &l.Blocks }

// canonicalNulls are the blocks the canonical form (Hash, String) shows as
// null when they are not set: the types that were fields of Source and
// Ledger before the registries (issue 15), so that every configuration
// keeps the hash it had. A type registered since shows only when set, and
// adding one changes no existing configuration's hash. Never extend these
// lists.
var canonicalNulls = map[string][]string{
	"source": {"local", "sftp", "s3"},
	"ledger": {"file", "postgres", "tryton", "odoo"},
}

// Reports says where exception reports are written.
type Reports struct {
	Dir string `yaml:"dir" lettrage:"path"` // default out
	// XLSX also writes exceptions.xlsx, a formatted workbook (default true).
	XLSX bool `yaml:"xlsx"`
	// FrenchCSV also writes exceptions-fr.csv for French-locale Excel:
	// ";" separated, "," decimals, UTF-8 with a byte-order mark.
	FrenchCSV bool `yaml:"french_csv"`
	// Locale is the language of exceptions.xlsx (headers, actions,
	// reasons, number and date formats, the Guide sheet): "en" (default)
	// or "fr". exceptions.csv never changes: it is the machine contract.
	Locale string `yaml:"locale"`
}

// Inbox tunes how the resolutions inbox takes workbooks in.
type Inbox struct {
	// MinAge is how long a workbook must have been left unchanged (its
	// modification time) before it is read: a file still being copied or
	// saved waits for the next run (default 10s).
	MinAge time.Duration `yaml:"min_age"`
	// DefaultAuthor is who a workbook's resolutions are recorded as coming
	// from when the workbook does not say who last saved it ("" leaves
	// "unknown"). Never the tool itself.
	DefaultAuthor string `yaml:"default_author"`
}

// Matching tunes the matcher; every field is optional and defaults to
// matcher.DefaultConfig(). Parse fills the defaults in, so that the
// loaded configuration (and its Hash) shows the effective values.
type Matching struct {
	AutoThreshold    *float64            `yaml:"auto_threshold"`
	SuggestThreshold *float64            `yaml:"suggest_threshold"`
	MaxCandidates    *int                `yaml:"max_candidates"`
	SameAmount       string              `yaml:"same_amount"` // oldest | suggest
	MaxCombination   *int                `yaml:"max_combination"`
	DueWindowDays    *int                `yaml:"due_window_days"`
	Tolerances       []matcher.Tolerance `yaml:"tolerances"`
	// FX lists the currency pairs across which items may be lettered with
	// the bank's instructed amount (none: same currency only).
	FX []matcher.FXRule `yaml:"fx"`
	// CashDiscounts are the cash-discount policies per currency (none: a
	// discount the payer took stays open).
	CashDiscounts []matcher.CashDiscount `yaml:"cash_discount"`
	// Overpayment and DuplicatePayment: exception (default) or on_account.
	Overpayment      string `yaml:"overpayment"`
	DuplicatePayment string `yaml:"duplicate_payment"`
}

// MatcherConfig returns matcher.DefaultConfig() with the fields this block
// sets.
func (m Matching) MatcherConfig() matcher.Config {
	c := matcher.DefaultConfig()
	if m.AutoThreshold != nil {
		c.AutoThreshold = *m.AutoThreshold
	}
	if m.SuggestThreshold != nil {
		c.SuggestThreshold = *m.SuggestThreshold
	}
	if m.MaxCandidates != nil {
		c.MaxCandidates = *m.MaxCandidates
	}
	if m.SameAmount != "" {
		c.SameAmount = m.SameAmount
	}
	if m.MaxCombination != nil {
		c.MaxCombination = *m.MaxCombination
	}
	if m.DueWindowDays != nil {
		c.DueWindowDays = *m.DueWindowDays
	}
	if len(m.Tolerances) > 0 {
		c.Tolerances = append([]matcher.Tolerance(nil), m.Tolerances...)
	}
	if len(m.FX) > 0 {
		c.FX = append([]matcher.FXRule(nil), m.FX...)
	}
	if len(m.CashDiscounts) > 0 {
		c.CashDiscounts = append([]matcher.CashDiscount(nil), m.CashDiscounts...)
	}
	if m.Overpayment != "" {
		c.Overpayment = m.Overpayment
	}
	if m.DuplicatePayment != "" {
		c.DuplicatePayment = m.DuplicatePayment
	}
	return c
}

// fillDefaults makes the defaults explicit.
func (m *Matching) fillDefaults() {
	c := m.MatcherConfig()
	m.AutoThreshold, m.SuggestThreshold = &c.AutoThreshold, &c.SuggestThreshold
	m.MaxCandidates, m.MaxCombination, m.DueWindowDays = &c.MaxCandidates, &c.MaxCombination, &c.DueWindowDays
	m.SameAmount = c.SameAmount
	m.Overpayment, m.DuplicatePayment = c.Overpayment, c.DuplicatePayment
}

// DefaultMaxFileBytes is the default bound on one statement file.
const DefaultMaxFileBytes = 256 << 20

// defaults are set before the YAML is decoded over them.
func (c *Config) setDefaults() {
	c.Log = Log{Level: "info", Format: "text"}
	c.HTTP = HTTP{Listen: "127.0.0.1:9464"}
	c.State = State{Driver: "sqlite", SQLite: SQLite{Path: "out/state.db"}}
}

func (j *Job) setDefaults() {
	j.Source.MaxFileBytes = DefaultMaxFileBytes
	j.Reports.Dir = "out"
	j.Reports.XLSX = true
	j.BatchDetailsWait = DefaultBatchDetailsWait
	j.Reports.Locale = "en"
	j.ResolutionsInbox.MinAge = DefaultInboxMinAge
}

// DefaultInboxMinAge is how long a workbook in the resolutions inbox must
// be left unchanged before it is read.
const DefaultInboxMinAge = 10 * time.Second

// DefaultBatchDetailsWait is how long a batch entry waits for its details.
const DefaultBatchDetailsWait = 48 * time.Hour

// Load reads and parses the configuration file at path; relative paths in
// it are resolved against the file's folder.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("loading config: %w", err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("loading config %q: %w", path, err)
	}
	c, err := Parse(data, filepath.Dir(abs))
	if err != nil {
		return nil, fmt.Errorf("loading config %q: %w", path, err)
	}
	return c, nil
}

// Parse parses a configuration; relative paths are resolved against
// baseDir. Environment variables are taken from the process. Problems
// with the content come back as a *ValidationError listing every problem.
func Parse(data []byte, baseDir string) (*Config, error) {
	return parse(data, baseDir, os.LookupEnv, os.ReadFile)
}

func parse(data []byte, baseDir string, env func(string) (string, bool), readFile func(string) ([]byte, error)) (*Config, error) {
	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&root); err != nil {
		if err.Error() == "EOF" {
			return nil, &ValidationError{Problems: []Problem{{Path: "jobs", Msg: "at least one job required (the file is empty)"}}}
		}
		return nil, fmt.Errorf("parsing YAML: %w", err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, fmt.Errorf("parsing YAML: line %d: a second document; put everything in one", extra.Line)
	}
	d := &decoder{baseDir: baseDir, env: env, readFile: readFile, lines: map[string]int{}}
	c := &Config{}
	c.setDefaults()
	d.decode(&root, reflectValue(c), "")
	if d.nodes > maxNodes {
		// Decoding stopped at the limit: what was not decoded would only
		// show as misleading "required" problems.
		return nil, &ValidationError{Problems: d.problems}
	}
	d.finish(reflectValue(c), "")
	for i := range c.Jobs {
		c.Jobs[i].Matching.fillDefaults()
	}
	problems := d.problems
	for _, vp := range d.withLines(validate(c)) {
		if !coveredBy(vp, d.problems) {
			problems = append(problems, vp)
		}
	}
	sort.SliceStable(problems, func(i, j int) bool {
		li, lj := problems[i].Line, problems[j].Line
		return li != 0 && (lj == 0 || li < lj)
	})
	if len(problems) > 0 {
		return nil, &ValidationError{Problems: problems}
	}
	return c, nil
}

// coveredBy reports whether a validation problem is about a field (or a
// block holding a field) that already failed to decode.
func coveredBy(vp Problem, decoded []Problem) bool {
	for _, dp := range decoded {
		if dp.Path == vp.Path || strings.HasPrefix(dp.Path, vp.Path+".") || strings.HasPrefix(dp.Path, vp.Path+"[") {
			return true
		}
	}
	return false
}

// Hash returns the SHA-256 (hex) of a canonical JSON form of the effective
// configuration, without secret values: it identifies the configuration
// in the audit trail.
func (c *Config) Hash() string {
	form := canonical(reflectValue(c))
	omitNewDefaults(form)
	b, _ := json.Marshal(form)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// newKeys are the settings added after the hash was pinned (config's
// TestHashPinned): at their default they are left out of the hash, so
// that upgrading a deployment that does not use them changes no hash (a
// changed hash re-examines every open exception once). A key set to
// anything else is hashed as any other.
var newKeys = [][]string{
	{"state", "retention_days"},
}

// omitNewDefaults removes from a canonical form the newKeys at their zero
// value.
func omitNewDefaults(form any) {
	for _, path := range newKeys {
		m, ok := form.(map[string]any)
		for _, k := range path[:len(path)-1] {
			if !ok {
				break
			}
			m, ok = m[k].(map[string]any)
		}
		if !ok {
			continue
		}
		last := path[len(path)-1]
		if v, has := m[last]; has && isZeroCanonical(v) {
			delete(m, last)
		}
	}
}

func isZeroCanonical(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case bool:
		return !x
	case string:
		return x == ""
	case int64:
		return x == 0
	case int:
		return x == 0
	case float64:
		return x == 0
	}
	return false
}

// String returns the effective configuration as indented JSON, secrets
// replaced by "<redacted>".
func (c Config) String() string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	_ = enc.Encode(canonical(reflectValue(&c)))
	return strings.TrimSuffix(b.String(), "\n")
}

func redact(s string) string {
	if s == "" {
		return ""
	}
	return "<redacted>"
}
