package camt

// Schema conformance by construction (issue 12). TestXSDConformance
// generates random camt.052/053/054 .001.08 documents from the official
// XSDs shipped in the github.com/moov-io/iso20022 module (never copied into
// this repository), checks each with xmllint against its XSD, then checks
// that the reader accepts every one, that its fast path and its
// encoding/xml path agree, and that what it reads agrees with moov-io's
// typed decoding on every field the Lettrage model carries.
//
//	go test ./connectors/camt -run 'TestXSDConformance$'                      # 300 documents, a new seed: about 2 s
//	go test ./connectors/camt -run 'TestXSDConformance$' -xsdgen.n=5000       # the large run: under a minute
//	go test ./connectors/camt -run 'TestXSDConformance$' -xsdgen.seed=N -xsdgen.n=M -v   # replay a run
//
// A run is reproducible from its seed (logged, and printed with every
// failure with the command that replays it): document i of a seed is the
// same whatever -xsdgen.n is, as long as it is larger than i. Failures
// are grouped by error (reader errors without indexes and values, or the
// field that differs from moov-io); the first five documents of each
// group are written to a directory that is kept (t.TempDir is removed
// when the test ends), whose path is printed. -xsdgen.omit=TaxAmt,RemittanceAmount2/DscntApldAmt
// stops generating those optional elements (by name, or Type/Elem), to
// look past a known failure while it is being fixed.
//
// xmllint comes from the Debian package libxml2-utils
// (scripts/install-test-deps.sh). Without it the test fails when CI=true
// and is skipped, loudly, on a developer machine.

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/lettrage/lettrage/domain"
)

var (
	xsdgenN    = flag.Int("xsdgen.n", 300, "number of documents TestXSDConformance generates")
	xsdgenSeed = flag.Uint64("xsdgen.seed", 0, "seed of TestXSDConformance (0: a new random seed, logged)")
	xsdgenOmit = flag.String("xsdgen.omit", "", "comma-separated optional element names TestXSDConformance never generates")
)

// findXmllint returns the path of xmllint, if installed.
func findXmllint() (string, error) { return exec.LookPath("xmllint") }

// needXmllint returns the path of xmllint, failing in CI and skipping
// elsewhere when it is missing.
func needXmllint(t *testing.T) string {
	t.Helper()
	p, err := findXmllint()
	if err == nil {
		return p
	}
	msg := "xmllint not found: the XSD conformance test needs it (Debian package libxml2-utils; scripts/install-test-deps.sh installs it)"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	fmt.Fprintln(os.Stderr, "WARNING: "+msg+"; skipping "+t.Name())
	t.Skip(msg)
	return ""
}

// xmllintBatch validates files against xsd in one xmllint call and returns
// the errors of each file that does not validate.
func xmllintBatch(xmllint, xsd string, files []string) (map[string][]string, error) {
	cmd := exec.Command(xmllint, append([]string{"--noout", "--nonet", "--schema", xsd}, files...)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		return nil, err
	}
	lines := strings.Split(out.String(), "\n")
	bad := map[string][]string{}
	for _, f := range files {
		ok := false
		var msgs []string
		for _, l := range lines {
			switch {
			case l == f+" validates":
				ok = true
			case strings.HasPrefix(l, f+":"):
				msgs = append(msgs, strings.TrimPrefix(l, f))
			}
		}
		if !ok {
			if len(msgs) == 0 {
				msgs = []string{"no verdict from xmllint: " + out.String()}
			}
			bad[f] = msgs
		}
	}
	return bad, nil
}

// genDoc is one generated document.
type genDoc struct {
	i    int
	msg  string
	path string
	data []byte
}

// failGroup gathers the documents that fail the same way.
type failGroup struct {
	key     string
	docs    []int
	example string
}

type failures struct {
	groups map[string]*failGroup
}

func (f *failures) add(key string, doc int, example string) {
	if f.groups == nil {
		f.groups = map[string]*failGroup{}
	}
	g := f.groups[key]
	if g == nil {
		g = &failGroup{key: key, example: example}
		f.groups[key] = g
	}
	if len(g.docs) == 0 || g.docs[len(g.docs)-1] != doc {
		g.docs = append(g.docs, doc)
	}
}

func (f *failures) sorted() []*failGroup {
	var out []*failGroup
	for _, g := range f.groups {
		out = append(out, g)
	}
	sort.Slice(out, func(i, j int) bool {
		if len(out[i].docs) != len(out[j].docs) {
			return len(out[i].docs) > len(out[j].docs)
		}
		return out[i].key < out[j].key
	})
	return out
}

var (
	reIndex  = regexp.MustCompile(`\[\d+\]`)
	reQuoted = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)
	reNumber = regexp.MustCompile(`\d+`)
	reStmt   = regexp.MustCompile(`^.*?/(Stmt|Rpt|Ntfctn)(/|$)`)
)

// errKey is a reader error without what varies from document to document
// (indexes, values, offsets), to group failures by. Amounts written with
// more digits than domain.ParseAmount takes are one group wherever they
// are.
func errKey(err error) string {
	var pe *ParseError
	if !errors.As(err, &pe) {
		return reNumber.ReplaceAllString(err.Error(), "N")
	}
	cause := pe.Err.Error()
	if m := reLongAmount.FindStringSubmatch(cause); m != nil && strings.Count(m[1], ".")+40 < len(strings.TrimLeft(m[1], "+-")) {
		return `amount written with more than 40 digits (leading zeros, which xs:decimal allows): ` + reQuoted.ReplaceAllString(cause, `"…"`)
	}
	path := reStmt.ReplaceAllString(reIndex.ReplaceAllString(pe.Path, ""), "Stmt$2")
	return path + ": " + reNumber.ReplaceAllString(reQuoted.ReplaceAllString(cause, `"…"`), "N")
}

var reLongAmount = regexp.MustCompile(`parsing amount "([+-]?[0-9.]+)"`)

func TestXSDConformance(t *testing.T) {
	xmllint := needXmllint(t)
	dir := needSpecDir(t)
	schemas := loadCamtSchemas(t, dir)
	seed := *xsdgenSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())%1_000_000_000 + 1
	}
	n := *xsdgenN
	replay := fmt.Sprintf("go test ./connectors/camt -run 'TestXSDConformance$' -xsdgen.seed=%d -xsdgen.n=%d", seed, n)
	t.Logf("seed %d, %d documents (replay: %s)", seed, n, replay)
	start := time.Now()

	opt := defaultGenOptions()
	if *xsdgenOmit != "" {
		opt.omit = map[string]bool{}
		for _, name := range strings.Split(*xsdgenOmit, ",") {
			opt.omit[strings.TrimSpace(name)] = true
		}
		t.Logf("not generating %v (-xsdgen.omit)", *xsdgenOmit)
	}
	r := rand.New(rand.NewPCG(seed, seed^0x9E3779B97F4A7C15))
	gens := map[string]*docGen{}
	for _, msg := range camtMessages {
		g, err := newDocGen(schemas[msg], msg, r, opt)
		if err != nil {
			t.Fatal(err)
		}
		gens[msg] = g
	}

	// Generate.
	tmp := t.TempDir()
	docs := make([]*genDoc, n)
	byMsg := map[string][]string{}
	size := 0
	for i := range n {
		msg := camtMessages[r.IntN(len(camtMessages))]
		d := &genDoc{i: i, msg: msg, path: filepath.Join(tmp, fmt.Sprintf("doc-%05d-%s.xml", i, msg)), data: gens[msg].document()}
		if err := os.WriteFile(d.path, d.data, 0o644); err != nil {
			t.Fatal(err)
		}
		docs[i] = d
		byMsg[msg] = append(byMsg[msg], d.path)
		size += len(d.data)
	}
	genTime := time.Since(start)

	// Validate with xmllint, in batches.
	invalid := map[string][]string{}
	for _, msg := range camtMessages {
		files := byMsg[msg]
		for len(files) > 0 {
			k := min(len(files), 250)
			bad, err := xmllintBatch(xmllint, xsdPath(dir, msg), files[:k])
			if err != nil {
				t.Fatalf("running xmllint: %v", err)
			}
			for f, m := range bad {
				invalid[f] = m
			}
			files = files[k:]
		}
	}
	lintTime := time.Since(start) - genTime

	var gen, read failures
	var stmts, entries, details int
	opts := DefaultOptions()
	ref := DefaultOptions()
	ref.Reference = true
	for _, d := range docs {
		if msgs, bad := invalid[d.path]; bad {
			// The generator wrote an invalid document: a bug of the test.
			m := reNumber.ReplaceAllString(msgs[0], "N")
			gen.add(m, d.i, strings.Join(msgs, "\n"))
			continue
		}
		name := filepath.Base(d.path)
		got, err := ReadAll(bytes.NewReader(d.data), name, opts)
		if err != nil {
			read.add("refused: "+errKey(err), d.i, err.Error())
			continue
		}
		for _, st := range got.Statements {
			stmts++
			entries += len(st.Entries)
			for _, e := range st.Entries {
				details += len(e.Transactions)
			}
		}
		// The encoding/xml path must read the same.
		slow, err := ReadAll(bytes.NewReader(d.data), name, ref)
		if err != nil {
			read.add("refused by the encoding/xml path only: "+errKey(err), d.i, err.Error())
		} else if a, b := renderJSON(t, got), renderJSON(t, slow); !bytes.Equal(a, b) {
			read.add("fast path and encoding/xml path differ", d.i, firstDiff(a, b))
		}
		// Parse (streaming) must accept it too and hand over the same
		// entries.
		handed := 0
		if _, err := Parse(bytes.NewReader(d.data), name, opts, func(*Statement, *Entry, []domain.Transaction) error {
			handed++
			return nil
		}); err != nil {
			read.add("refused by Parse only: "+errKey(err), d.i, err.Error())
		} else if want := countEntries(got); handed != want {
			read.add("Parse hands over another number of entries than ReadAll reads", d.i, fmt.Sprintf("%d vs %d", handed, want))
		}
		diffs, err := compareMoov(got, d.data)
		if err != nil {
			read.add("moov-io cannot decode: "+reNumber.ReplaceAllString(err.Error(), "N"), d.i, err.Error())
			continue
		}
		for _, x := range diffs {
			read.add("differs from moov-io: "+x.field, d.i, fmt.Sprintf("%s: ours %s, moov-io %s", x.at, x.ours, x.theirs))
		}
	}
	total := time.Since(start)
	t.Logf("%d documents, %.1f KB on average; read: %d statements, %d entries, %d transaction details; generation %v, xmllint %v, total %v",
		n, float64(size)/float64(max(n, 1))/1024, stmts, entries, details,
		genTime.Round(time.Millisecond), lintTime.Round(time.Millisecond), total.Round(time.Millisecond))
	logCoverage(t, gens)

	if len(gen.groups) == 0 && len(read.groups) == 0 {
		return
	}
	// Keep the first documents of each group (t.TempDir is removed when
	// the test ends).
	out, err := os.MkdirTemp("", fmt.Sprintf("xsdgen-seed%d-", seed))
	if err != nil {
		t.Fatal(err)
	}
	failing := map[int]bool{}
	for _, f := range []*failures{&gen, &read} {
		for _, g := range f.groups {
			for _, i := range g.docs {
				failing[i] = true
			}
			for _, i := range g.docs[:min(len(g.docs), 5)] {
				if err := os.WriteFile(filepath.Join(out, filepath.Base(docs[i].path)), docs[i].data, 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	report := func(title string, f *failures) {
		var b strings.Builder
		for _, g := range f.sorted() {
			fmt.Fprintf(&b, "\n  %4d documents: %s\n        first: %s\n        %s", len(g.docs), g.key,
				filepath.Join(out, filepath.Base(docs[g.docs[0]].path)), strings.ReplaceAll(g.example, "\n", "\n        "))
		}
		t.Errorf("%s (seed %d; %d of %d documents fail; the first 5 of each group are kept in %s; replay: %s):%s",
			title, seed, len(failing), n, out, replay, b.String())
	}
	if len(gen.groups) > 0 {
		report("the generator wrote documents xmllint rejects (a bug of the test)", &gen)
	}
	if len(read.groups) > 0 {
		report("valid documents the reader refuses or reads differently from moov-io", &read)
	}
}

func countEntries(d *Document) int {
	n := 0
	for _, st := range d.Statements {
		n += len(st.Entries)
	}
	return n
}

// importantElements must be generated in any run of 200 documents or
// more: the comparison with moov-io relies on them.
var importantElements = strings.Fields(`Ntry NtryDtls TxDtls Btch Refs EndToEndId UETR AmtDtls InstdAmt TxAmt CcyXchg
	Chrgs Rcrd RltdPties Dbtr Cdtr Pty DbtrAcct IBAN Othr RltdAgts DbtrAgt BICFI RmtInf Ustrd Strd RfrdDocInf
	RfrdDocAmt DscntApldAmt TaxAmt AdjstmntAmtAndRsn CdtrRefInf RtrInf TxsSummry TtlNetNtry BookgDt ValDt DtTm (any)`)

func logCoverage(t *testing.T, gens map[string]*docGen) {
	t.Helper()
	elems := map[string]int{}
	for _, msg := range camtMessages {
		g := gens[msg]
		o, oAll, absent := covered(g.cov.optAll, g.cov.optSeen)
		b, bAll, missing := covered(g.cov.branchAll, g.cov.branch)
		t.Logf("%s: optional elements present at least once %d/%d, choice branches taken %d/%d (types reached %d/%d)",
			msg, o, oAll, b, bAll, typesReached(g), complexWithElements(g.s))
		if testing.Verbose() && len(absent) > 0 && len(absent) <= 15 {
			t.Logf("%s: optional elements never present: %v", msg, absent)
		}
		if testing.Verbose() && len(missing) > 0 && len(missing) <= 10 {
			t.Logf("%s: branches never taken: %v", msg, missing)
		}
		for k, v := range g.cov.elems {
			elems[k] += v
		}
	}
	if *xsdgenN >= 200 {
		for _, e := range importantElements {
			if elems[e] == 0 && !gens[camtMessages[0]].opt.omit[e] {
				t.Errorf("no <%s> generated in %d documents: the generator no longer covers what the comparison checks", e, *xsdgenN)
			}
		}
	}
}

// typesReached counts the complex types with element content generated.
func typesReached(g *docGen) int { return len(g.cov.types) }

func complexWithElements(s *xsdSchema) int {
	n := 0
	for _, c := range s.complex {
		if c.base == "" {
			n++
		}
	}
	return n
}
