package connectors

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
)

// Config is a connector's configuration: a pointer to a struct whose yaml
// tags name its keys (with lettrage:"path" and lettrage:"secret" where they
// apply, see package config), and whose Validate reports every problem, one
// joined error each starting with its YAML key ("dir: required").
type Config interface {
	Validate() error
}

// SourceOptions are what the program, not the YAML block, gives a statement
// source it builds: the place for dependencies every source may need.
type SourceOptions struct {
	// Name is the source's name in logs and errors ("<job>/<type>").
	Name string
}

// LedgerOptions are what the program, not the YAML block, gives a ledger it
// builds.
type LedgerOptions struct {
	// ReadOnly asks for a ledger that only reads open items (`lettrage
	// check --connect`): it creates nothing, neither tables nor files,
	// where it can avoid it.
	ReadOnly bool
}

// CashDiscountWriter is implemented by the Config of a ledger that says
// whether it writes cash-discount postings; one whose Config does not
// implement it does. The configuration refuses matching.cash_discount for a
// ledger that does not.
type CashDiscountWriter interface {
	WritesCashDiscounts() bool
}

// Registry holds the kinds of one port (statement sources or ledgers): for
// each type name, the type of its configuration block and its constructor.
// Each connector registers itself from an init function in its own package
// (register.go); connectors/all imports the built-in ones, and a program
// imports connectors/all (or its own list). The configuration decodes the
// block `<port>.<type>` into the registered Config and builds the connector
// through the registry.
type Registry[T any, O any] struct {
	port  string
	mu    sync.RWMutex
	kinds map[string]kind[T, O]
}

type kind[T any, O any] struct {
	newConfig func() Config
	build     func(Config, O) (T, error)
}

// NewRegistry returns an empty registry of the port named port ("source",
// "ledger"), the word its errors use.
func NewRegistry[T any, O any](port string) *Registry[T, O] {
	return &Registry[T, O]{port: port, kinds: map[string]kind[T, O]{}}
}

// Sources are the statement sources this program knows (source.type).
var Sources = NewRegistry[StatementSource, SourceOptions]("source")

// Ledgers are the ledgers this program knows (ledger.type).
var Ledgers = NewRegistry[Ledger, LedgerOptions]("ledger")

// validKind is the shape of a type name: it is also a YAML key.
func validKind(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c == '_' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// Register adds the kind name to r: its configuration is a *C (decoded from
// the YAML block of that name, its zero value before decoding), build makes
// the connector from it. It panics when name is not a lower-case key
// ([a-z_][a-z0-9_]*) or is already registered: two connectors claiming one
// type is a programming error, found at start.
//
//	func init() {
//		connectors.Register(connectors.Ledgers, "odoo",
//			func(c *Config, _ connectors.LedgerOptions) (connectors.Ledger, error) { return New(*c) })
//	}
func Register[T any, O any, C any, P interface {
	*C
	Config
}](r *Registry[T, O], name string, build func(P, O) (T, error)) {
	if !validKind(name) {
		panic(fmt.Sprintf("connectors: registering %s type %q: want a lower-case key ([a-z_][a-z0-9_]*)", r.port, name))
	}
	if build == nil {
		panic(fmt.Sprintf("connectors: registering %s type %q: no constructor", r.port, name))
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.kinds[name]; dup {
		panic(fmt.Sprintf("connectors: %s type %q registered twice", r.port, name))
	}
	r.kinds[name] = kind[T, O]{
		newConfig: func() Config { return P(new(C)) },
		build: func(c Config, o O) (T, error) {
			p, ok := c.(P)
			if !ok || p == nil {
				var zero T
				return zero, fmt.Errorf("building the %s %q: configuration is %T, want a non-nil %T", r.port, name, c, P(nil))
			}
			return build(p, o)
		},
	}
}

// Port is the word for what r holds: "source" or "ledger".
func (r *Registry[T, O]) Port() string { return r.port }

// Kinds lists the registered type names, sorted.
func (r *Registry[T, O]) Kinds() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	names := make([]string, 0, len(r.kinds))
	for n := range r.kinds {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// NewConfig returns a pointer to the zero configuration of type name, ok
// false when name is not registered.
func (r *Registry[T, O]) NewConfig(name string) (Config, bool) {
	r.mu.RLock()
	k, ok := r.kinds[name]
	r.mu.RUnlock()
	if !ok {
		return nil, false
	}
	return k.newConfig(), true
}

// Unknown is the problem with a type name nobody registered, listing those
// that are: `unknown ledger type "sap" (want one of file, odoo, postgres,
// tryton)`.
func (r *Registry[T, O]) Unknown(name string) string {
	return fmt.Sprintf("unknown %s type %q (%s)", r.port, name, r.Want())
}

// Want says which type names are allowed: "want one of local, s3, sftp",
// or, in a program that registered none, what it lacks.
func (r *Registry[T, O]) Want() string {
	kinds := r.Kinds()
	if len(kinds) == 0 {
		return fmt.Sprintf("no %s type is registered in this program: import connectors/all", r.port)
	}
	return "want one of " + strings.Join(kinds, ", ")
}

// New builds the connector of type name from its configuration (a value
// NewConfig(name) returned, decoded and validated).
func (r *Registry[T, O]) New(name string, c Config, o O) (T, error) {
	r.mu.RLock()
	k, ok := r.kinds[name]
	r.mu.RUnlock()
	var zero T
	switch {
	case !ok:
		return zero, errors.New("type: " + r.Unknown(name))
	case c == nil:
		return zero, fmt.Errorf("%s: required for type %q", name, name)
	}
	return k.build(c, o)
}
