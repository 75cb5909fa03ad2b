package connectors

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

type fakeConfig struct {
	Dir string `yaml:"dir"`
}

func (c *fakeConfig) Validate() error {
	if c.Dir == "" {
		return errors.New("dir: required")
	}
	return nil
}

type otherConfig struct{}

func (*otherConfig) Validate() error { return nil }

// fakeSource is a StatementSource that remembers how it was built.
type fakeSource struct {
	StatementSource
	name, dir string
}

func buildFake(c *fakeConfig, o SourceOptions) (StatementSource, error) {
	return &fakeSource{name: o.Name, dir: c.Dir}, nil
}

// panics returns what f panicked with ("" when it did not).
func panics(f func()) (msg string) {
	defer func() {
		if r := recover(); r != nil {
			msg = fmt.Sprint(r)
		}
	}()
	f()
	return ""
}

func TestRegisterDuplicatePanics(t *testing.T) {
	r := NewRegistry[StatementSource, SourceOptions]("source")
	Register(r, "fake", buildFake)
	msg := panics(func() { Register(r, "fake", buildFake) })
	if !strings.Contains(msg, `source type "fake" registered twice`) {
		t.Fatalf("registering fake twice: panic %q, want one naming the type", msg)
	}
	if got := r.Kinds(); len(got) != 1 || got[0] != "fake" {
		t.Errorf("Kinds() = %q after the refused duplicate, want [fake]", got)
	}
}

func TestRegisterBadNamePanics(t *testing.T) {
	r := NewRegistry[StatementSource, SourceOptions]("source")
	for _, name := range []string{"", "Local", "s-3", "a.b", "9p", "with space"} {
		if msg := panics(func() { Register(r, name, buildFake) }); !strings.Contains(msg, "want a lower-case key") {
			t.Errorf("Register(%q): panic %q, want a refusal of the name", name, msg)
		}
	}
	if msg := panics(func() { Register[StatementSource, SourceOptions, fakeConfig](r, "nil", nil) }); !strings.Contains(msg, "no constructor") {
		t.Errorf("Register without a constructor: panic %q", msg)
	}
	for _, name := range []string{"s3", "local", "a_b2"} {
		if msg := panics(func() { Register(r, name, buildFake) }); msg != "" {
			t.Errorf("Register(%q) panicked: %s", name, msg)
		}
	}
}

func TestRegistryBuilds(t *testing.T) {
	r := NewRegistry[StatementSource, SourceOptions]("source")
	Register(r, "zeta", buildFake)
	Register(r, "alpha", buildFake)
	if got := strings.Join(r.Kinds(), ","); got != "alpha,zeta" {
		t.Errorf("Kinds() = %s, want them sorted", got)
	}
	c, ok := r.NewConfig("alpha")
	fc, isFake := c.(*fakeConfig)
	if !ok || !isFake || fc == nil || *fc != (fakeConfig{}) {
		t.Fatalf("NewConfig(alpha) = %#v, %v; want a new zero *fakeConfig", c, ok)
	}
	if c2, _ := r.NewConfig("alpha"); c2 == c {
		t.Error("NewConfig returned the same value twice: decoding one job would change another")
	}
	fc.Dir = "/in"
	src, err := r.New("alpha", fc, SourceOptions{Name: "job/alpha"})
	if err != nil {
		t.Fatal(err)
	}
	if f := src.(*fakeSource); f.name != "job/alpha" || f.dir != "/in" {
		t.Errorf("built %+v, want the options' name and the configuration's dir", f)
	}
	if _, ok := r.NewConfig("beta"); ok {
		t.Error("NewConfig(beta) found an unregistered type")
	}
}

func TestRegistryNewErrors(t *testing.T) {
	r := NewRegistry[Ledger, LedgerOptions]("ledger")
	Register(r, "file", func(c *fakeConfig, _ LedgerOptions) (Ledger, error) { return nil, errors.New("built") })
	Register(r, "odoo", func(c *otherConfig, _ LedgerOptions) (Ledger, error) { return nil, nil })
	_, err := r.New("sap", &fakeConfig{}, LedgerOptions{})
	if err == nil || err.Error() != `type: unknown ledger type "sap" (want one of file, odoo)` {
		t.Errorf("New(sap): %v, want the unknown type with the registered ones", err)
	}
	if _, err := r.New("file", nil, LedgerOptions{}); err == nil || !strings.Contains(err.Error(), `required for type "file"`) {
		t.Errorf("New(file, nil): %v", err)
	}
	if _, err := r.New("file", (*fakeConfig)(nil), LedgerOptions{}); err == nil || !strings.Contains(err.Error(), "want a non-nil") {
		t.Errorf("New(file, typed nil): %v", err)
	}
	if _, err := r.New("file", &otherConfig{}, LedgerOptions{}); err == nil || !strings.Contains(err.Error(), "*connectors.otherConfig") {
		t.Errorf("New(file, the odoo configuration): %v, want a refusal naming the type given", err)
	}
	if _, err := r.New("file", &fakeConfig{}, LedgerOptions{}); err == nil || err.Error() != "built" {
		t.Errorf("New(file): %v, want the constructor's own error", err)
	}
	if got := r.Unknown("x"); got != `unknown ledger type "x" (want one of file, odoo)` {
		t.Errorf("Unknown(x) = %q", got)
	}
}

func TestEmptyRegistrySaysWhatIsMissing(t *testing.T) {
	r := NewRegistry[StatementSource, SourceOptions]("source")
	if got := r.Unknown("local"); !strings.Contains(got, "no source type is registered in this program: import connectors/all") {
		t.Errorf("Unknown on an empty registry = %q", got)
	}
	if r.Port() != "source" || len(r.Kinds()) != 0 {
		t.Errorf("Port %q, Kinds %q", r.Port(), r.Kinds())
	}
}

// The package's own registries start empty: the connectors register
// themselves (connectors/all), the package knows none of them.
func TestGlobalRegistriesAreOpen(t *testing.T) {
	if Sources.Port() != "source" || Ledgers.Port() != "ledger" {
		t.Errorf("ports %q %q", Sources.Port(), Ledgers.Port())
	}
	if k := Sources.Kinds(); len(k) != 0 {
		t.Errorf("sources registered without importing them: %q", k)
	}
	if k := Ledgers.Kinds(); len(k) != 0 {
		t.Errorf("ledgers registered without importing them: %q", k)
	}
}
