package camt

// The document side of the schema-conformance generator: a walk of a
// parsed XSD (xsdgen_schema_test.go) from its Document element that writes
// one random document, valid by construction.
//
//   - every optional element is sometimes present: the containers of
//     entries and details nearly always, the elements the model carries
//     often, the others with a high probability until they have been
//     generated once in the run, then rarely, less as the document grows;
//     past a soft element budget only required elements and those the
//     model carries are written, which keeps documents small (about 14 KB);
//   - every choice branch is taken over a run: the least taken so far is
//     preferred;
//   - repetitions are capped (3 by default; Ntry, TxDtls, NtryDtls and the
//     statements have their own caps) and finite maxOccurs are sometimes
//     reached exactly;
//   - values: enumerations, pattern strings (patternGen), strings of the
//     minimum and maximum length with XML-special and non-ASCII
//     characters, decimals from 0 to the largest totalDigits and
//     fractionDigits allow (with the lexical forms xs:decimal accepts:
//     "+1", "007.50", ".5", "5."), booleans as true/false/1/0, dates and
//     date-times with and without zone and fraction of seconds;
//   - XML spelling varies per document: default namespace or prefix, a
//     namespace redeclared with another prefix on inner elements,
//     indentation, comments and processing instructions, character
//     references, CDATA sections, either quote, white space inside tags,
//     <X/> for empty elements, XML declaration and BOM;
//   - xs:any (SplmtryData/Envlp) gets foreign elements, in another
//     namespace or in none, named like camt elements (Ntry, Amt…).
//
// Not generated: years outside 0001–9999 (valid, but Go's time package
// cannot parse them, nor can moov-io's decoding) and the 24:00:00
// end-of-day time (valid, and read by the reader, but moov-io's decoding
// refuses it; see testdata/xsdgen-found), white space around dates (valid,
// but libxml2 rejects it), encodings other than UTF-8, DTDs and entity
// declarations.

import (
	"bytes"
	"fmt"
	"math/big"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
)

// xsdCoverage counts, over a run, what the generator produced.
type xsdCoverage struct {
	optSeen   map[string]int  // optional particle id → times present
	optAll    map[string]bool // optional particles of the types generated
	branch    map[string]int  // choice branch particle id → times taken
	branchAll map[string]bool // choice branches of the types generated
	elems     map[string]int  // element local name → times written
	enums     map[string]int  // simple type + value → times written
	types     map[string]bool // complex types generated
}

func newCoverage() *xsdCoverage {
	return &xsdCoverage{optSeen: map[string]int{}, optAll: map[string]bool{}, branch: map[string]int{},
		branchAll: map[string]bool{}, elems: map[string]int{}, enums: map[string]int{}, types: map[string]bool{}}
}

// covered returns how many of all were seen at least once, and the others.
func covered(all map[string]bool, seen map[string]int) (int, int, []string) {
	var missing []string
	n := 0
	for id := range all {
		if seen[id] > 0 {
			n++
		} else {
			missing = append(missing, id)
		}
	}
	sort.Strings(missing)
	return n, len(all), missing
}

type genOptions struct {
	// maxNodes is the soft budget of elements per document: once reached,
	// only required elements and those the model carries are written (up
	// to three times the budget).
	maxNodes int
	// caps bound repetitions per element name; others take defaultCap.
	caps       map[string]int
	defaultCap int
	// omit lists elements never generated when optional (or when another
	// branch of their choice can be taken): names (TaxAmt) or particle
	// ids (RemittanceAmount2/TaxAmt).
	omit map[string]bool
}

func defaultGenOptions() genOptions {
	return genOptions{
		maxNodes:   300,
		defaultCap: 3,
		caps:       map[string]int{"Stmt": 2, "Rpt": 2, "Ntfctn": 2, "Ntry": 4, "NtryDtls": 2, "TxDtls": 3, "Bal": 4},
	}
}

// modelNames are the elements the Lettrage model carries (and their
// containers): optional ones are included more often than the rest.
var modelNames = func() map[string]bool {
	m := map[string]bool{}
	for _, n := range strings.Fields(`GrpHdr MsgId CreDtTm Stmt Rpt Ntfctn Id ElctrncSeqNb LglSeqNb FrToDt FrDtTm ToDtTm
		Acct IBAN Othr Ccy Ownr Nm Svcr FinInstnId BICFI Bal Tp CdOrPrtry Cd Prtry Amt CdtDbtInd Dt DtTm
		TxsSummry TtlNtries TtlCdtNtries TtlDbtNtries NbOfNtries Sum TtlNetNtry
		Ntry NtryRef RvslInd Sts BookgDt ValDt AcctSvcrRef BkTxCd Domn Fmly SubFmlyCd Issr
		AmtDtls InstdAmt TxAmt CntrValAmt CcyXchg SrcCcy TrgtCcy UnitCcy XchgRate
		Chrgs TtlChrgsAndTaxAmt Rcrd ChrgInclInd NtryDtls Btch PmtInfId NbOfTxs TtlAmt
		TxDtls Refs InstrId EndToEndId UETR TxId MndtId ChqNb ClrSysRef
		RltdPties Dbtr DbtrAcct UltmtDbtr Cdtr CdtrAcct UltmtCdtr Pty RltdAgts DbtrAgt CdtrAgt
		RmtInf Ustrd Strd RfrdDocInf Nb RltdDt RfrdDocAmt DuePyblAmt DscntApldAmt CdtNoteAmt TaxAmt
		AdjstmntAmtAndRsn RmtdAmt CdtrRefInf Ref AddtlRmtInf RtrInf Rsn AddtlInf AddtlTxInf AddtlNtryInf
		SplmtryData Envlp`) {
		m[n] = true
	}
	return m
}()

// boosted are the probabilities of the containers of entries and details,
// so that most documents have several.
var boosted = map[string]float64{"Ntry": 0.95, "NtryDtls": 0.8, "TxDtls": 0.9, "RmtInf": 0.7, "Strd": 0.7, "RltdPties": 0.7}

// docStyle is how one document is spelled.
type docStyle struct {
	prefix    string // "" for a default namespace
	indent    bool
	decl      int // 0 none, 1 version only, 2 with encoding
	bom       bool
	comments  bool // comments and processing instructions between elements
	charRefs  bool // character references in text
	cdata     bool // CDATA sections for text
	quote     byte
	rePrefix  bool // redeclare the namespace with another prefix on some elements
	schemaLoc bool
	spacy     bool // white space around = in attributes and before > in tags
	selfClose bool // <X/> for elements left empty
}

// docGen generates documents for one schema.
type docGen struct {
	s    *xsdSchema
	msg  string // camt.053…
	r    *rand.Rand
	cov  *xsdCoverage
	opt  genOptions
	pats map[string]*patternGen

	// per document
	b      *bytes.Buffer
	nodes  int
	st     docStyle
	prefix string
	npfx   int
}

func newDocGen(s *xsdSchema, msg string, r *rand.Rand, opt genOptions) (*docGen, error) {
	g := &docGen{s: s, msg: msg, r: r, cov: newCoverage(), opt: opt, pats: map[string]*patternGen{}}
	for name, st := range s.simple {
		for _, p := range st.patterns {
			pg, err := newPatternGen(p)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			g.pats[name] = pg
		}
	}
	return g, nil
}

func (g *docGen) chance(p float64) bool { return g.r.Float64() < p }

// document writes one document.
func (g *docGen) document() []byte {
	g.b = &bytes.Buffer{}
	g.nodes = 0
	g.npfx = 0
	g.st = docStyle{
		indent:    g.chance(0.5),
		decl:      g.r.IntN(3),
		bom:       g.chance(0.05),
		comments:  g.chance(0.15),
		charRefs:  g.chance(0.2),
		cdata:     g.chance(0.15),
		quote:     '"',
		rePrefix:  g.chance(0.1),
		schemaLoc: g.chance(0.2),
		spacy:     g.chance(0.1),
		selfClose: g.chance(0.5),
	}
	if g.chance(0.2) {
		g.st.quote = '\''
	}
	if g.chance(0.25) {
		g.st.prefix = []string{"camt", "c", "ns0", "doc"}[g.r.IntN(4)]
	}
	g.prefix = g.st.prefix
	if g.st.bom {
		g.b.WriteString("\uFEFF")
	}
	switch g.st.decl {
	case 1:
		g.b.WriteString(`<?xml version="1.0"?>`)
	case 2:
		g.b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>`)
	}
	if g.st.decl > 0 {
		g.b.WriteByte('\n')
	}
	g.misc(0)
	root := &xsdParticle{id: "(root)/" + g.s.rootName, name: g.s.rootName, typ: g.s.rootType, min: 1, max: 1}
	g.element(root, 0)
	g.b.WriteByte('\n')
	return g.b.Bytes()
}

// misc sometimes writes a comment or a processing instruction.
func (g *docGen) misc(depth int) {
	if !g.st.comments || !g.chance(0.1) {
		return
	}
	g.newline(depth)
	if g.chance(0.7) {
		g.b.WriteString("<!-- " + strings.ReplaceAll(g.plainText(1, 20), "-", "_") + " -->")
	} else {
		g.b.WriteString("<?lettrage-test " + strings.ReplaceAll(g.plainText(1, 10), "?", "_") + "?>")
	}
}

func (g *docGen) newline(depth int) {
	if g.st.indent {
		g.b.WriteByte('\n')
		g.b.WriteString(strings.Repeat("  ", depth))
	}
}

func (g *docGen) qname(local string) string {
	if g.prefix == "" {
		return local
	}
	return g.prefix + ":" + local
}

func (g *docGen) attr(name, value string) {
	q, eq := string(g.st.quote), "="
	if g.st.spacy {
		eq = " =\n "
	}
	g.b.WriteString(" " + name + eq + q + escapeAttr(value, g.st.quote) + q)
}

// element writes one occurrence of particle p.
func (g *docGen) element(p *xsdParticle, depth int) {
	g.nodes++
	g.cov.elems[p.name]++
	if p.any {
		g.anyElement(depth, 0, false)
		return
	}
	g.misc(depth)
	g.newline(depth)
	saved := g.prefix
	var nsDecl string
	switch {
	case depth == 0:
		if g.prefix == "" {
			nsDecl = "xmlns"
		} else {
			nsDecl = "xmlns:" + g.prefix
		}
	case g.st.rePrefix && g.chance(0.05):
		g.npfx++
		g.prefix = fmt.Sprintf("p%d", g.npfx)
		nsDecl = "xmlns:" + g.prefix
	}
	name := g.qname(p.name)
	g.b.WriteString("<" + name)
	if nsDecl != "" {
		g.attr(nsDecl, g.s.ns)
	}
	if depth == 0 && g.st.schemaLoc {
		g.attr("xmlns:xsi", "http://www.w3.org/2001/XMLSchema-instance")
		g.attr("xsi:schemaLocation", g.s.ns+" "+g.msg+".001.08.xsd")
	}
	c, isComplex := g.s.complex[p.typ]
	switch {
	case isComplex && c.base != "":
		for _, a := range c.attrs {
			if a.required || g.chance(0.5) {
				g.attr(a.name, g.simpleValue(g.s.simple[a.typ], a.name, true))
			}
		}
		g.endTag()
		g.text(g.simpleValue(g.s.simple[c.base], p.name, false))
	case isComplex:
		g.endTag()
		at := g.b.Len()
		g.content(c, depth+1)
		if g.b.Len() == at && g.st.selfClose { // nothing inside: <X/>
			g.b.Truncate(at - 1)
			g.b.WriteString("/>")
			g.prefix = saved
			return
		}
		g.newline(depth)
	default:
		g.endTag()
		g.text(g.simpleValue(g.s.simple[p.typ], p.name, false))
	}
	g.b.WriteString("</" + name)
	g.endTag()
	g.prefix = saved
}

// endTag closes a start or end tag.
func (g *docGen) endTag() {
	if g.st.spacy && g.chance(0.3) {
		g.b.WriteString(" \n")
	}
	g.b.WriteString(">")
}

// content writes the children of a complex type.
func (g *docGen) content(c *xsdComplex, depth int) {
	g.cov.types[c.name] = true
	if c.choice {
		p := g.pickBranch(c)
		for range g.count(p, depth) {
			g.element(p, depth)
		}
		return
	}
	for _, p := range c.parts {
		for range g.count(p, depth) {
			g.element(p, depth)
		}
	}
	g.misc(depth)
}

// pickBranch prefers the choice branches taken least so far.
func (g *docGen) pickBranch(c *xsdComplex) *xsdParticle {
	var cands []*xsdParticle
	best := -1
	for _, p := range c.parts {
		g.cov.branchAll[p.id] = true
		if g.omitted(p) && len(c.parts) > 1 {
			continue
		}
		n := g.cov.branch[p.id]
		switch {
		case best < 0 || n < best:
			best, cands = n, []*xsdParticle{p}
		case n == best:
			cands = append(cands, p)
		}
	}
	p := cands[g.r.IntN(len(cands))]
	if g.chance(0.3) {
		p = c.parts[g.r.IntN(len(c.parts))]
		if g.omitted(p) {
			p = cands[0]
		}
	}
	g.cov.branch[p.id]++
	return p
}

// omitted: -xsdgen.omit names p (Elem, or Type/Elem).
func (g *docGen) omitted(p *xsdParticle) bool { return g.opt.omit[p.name] || g.opt.omit[p.id] }

// count decides how many times particle p occurs.
func (g *docGen) count(p *xsdParticle, depth int) int {
	n := p.min
	if p.min == 0 {
		g.cov.optAll[p.id] = true
		if g.omitted(p) || !g.include(p, depth) {
			return 0
		}
		g.cov.optSeen[p.id]++
		n = 1
	}
	if p.max == 1 || g.nodes >= g.opt.maxNodes {
		return n
	}
	limit, ok := g.opt.caps[p.name]
	if !ok {
		limit = g.opt.defaultCap
	}
	hi := limit
	if p.max > 0 && p.max < hi {
		hi = p.max
	}
	hi = max(hi, n)
	switch x := g.r.Float64(); {
	case x < 0.45:
	case x < 0.85:
		n += g.r.IntN(hi - n + 1)
	case p.max > 0 && p.max <= 10 && x < 0.92:
		n = p.max // boundary: exactly maxOccurs
	default:
		n = hi
	}
	return n
}

// include decides whether an optional particle is present. Past the
// soft budget only elements the model carries are still added, up to
// three times the budget.
func (g *docGen) include(p *xsdParticle, depth int) bool {
	if g.nodes >= 3*g.opt.maxNodes || depth > 40 {
		return false
	}
	if pr, ok := boosted[p.name]; ok {
		return g.chance(pr)
	}
	if modelNames[p.name] {
		return g.chance(0.6)
	}
	if g.nodes >= g.opt.maxNodes {
		return false
	}
	if g.cov.optSeen[p.id] == 0 {
		return g.chance(0.85)
	}
	// Fill the budget progressively less.
	return g.chance(0.12 * (1 - float64(g.nodes)/float64(g.opt.maxNodes)))
}

// anyElement writes foreign content for xs:any (processContents="lax"):
// elements in another namespace or in none (noNS), whose names sometimes
// are camt names, which no reader may take for its own.
func (g *docGen) anyElement(depth, level int, noNS bool) {
	g.newline(depth)
	names := []string{"Ntry", "Amt", "TxDtls", "Stmt", "Document", "Envlp", "Item", "Bal", "Sts"}
	name := names[g.r.IntN(len(names))]
	decl := ""
	switch {
	case level == 0 && g.chance(0.3):
		noNS, decl = true, ` xmlns=""`
	case level == 0 || !noNS || g.chance(0.5):
		noNS = false
		name, decl = "x:"+name, ` xmlns:x="urn:lettrage:xsdgen:foreign"`
	}
	g.b.WriteString("<" + name + decl)
	if g.chance(0.5) {
		g.attr("Ccy", "EUR")
	}
	g.b.WriteString(">")
	if level < 2 && g.chance(0.5) {
		for range 1 + g.r.IntN(2) {
			g.nodes++
			g.anyElement(depth+1, level+1, noNS)
		}
		g.newline(depth)
	} else {
		g.text(g.textValue(1, 20))
	}
	g.b.WriteString("</" + name + ">")
}

// text writes character data, escaped in one of the ways XML allows.
func (g *docGen) text(s string) {
	if g.st.cdata && g.chance(0.3) && !strings.Contains(s, "]]>") && s != "" {
		g.b.WriteString("<![CDATA[" + s + "]]>")
		return
	}
	for _, c := range s {
		switch {
		case c == '<':
			g.b.WriteString("&lt;")
		case c == '&':
			g.b.WriteString("&amp;")
		case c == '>':
			g.b.WriteString("&gt;")
		case c == '\r':
			g.b.WriteString("&#13;")
		case g.st.charRefs && g.chance(0.1):
			if g.chance(0.5) {
				fmt.Fprintf(g.b, "&#%d;", c)
			} else {
				fmt.Fprintf(g.b, "&#x%X;", c)
			}
		case c == '"' && g.chance(0.3):
			g.b.WriteString("&quot;")
		case c == '\'' && g.chance(0.3):
			g.b.WriteString("&apos;")
		default:
			g.b.WriteRune(c)
		}
	}
}

func escapeAttr(s string, quote byte) string {
	var b strings.Builder
	for _, c := range s {
		switch c {
		case '<':
			b.WriteString("&lt;")
		case '&':
			b.WriteString("&amp;")
		case '"':
			b.WriteString("&quot;")
		case '\'':
			b.WriteString("&apos;")
		case '\t':
			b.WriteString("&#9;")
		case '\n':
			b.WriteString("&#10;")
		default:
			b.WriteRune(c)
		}
	}
	return b.String()
}

// Values.

var realCurrencies = []string{"EUR", "USD", "CHF", "GBP", "JPY", "BHD", "SEK", "CLF", "XXX"}

// simpleValue returns a value of simple type st (unescaped text). elem
// names the element or attribute, for the few realistic overrides.
func (g *docGen) simpleValue(st *xsdSimple, elem string, attr bool) string {
	if st == nil {
		panic("simpleValue of an unknown type for " + elem)
	}
	switch st.base {
	case "xs:string":
		switch {
		case len(st.enum) > 0:
			v := st.enum[g.r.IntN(len(st.enum))]
			g.cov.enums[st.name+"="+v]++
			return v
		case len(st.patterns) > 0:
			return g.patternValue(st)
		}
		lo, hi := max(st.minLen, 0), st.maxLen
		if hi < 0 {
			hi = 35
		}
		return g.textValue(lo, hi)
	case "xs:decimal":
		return g.collapse(g.decimalValue(st), attr)
	case "xs:boolean":
		return g.collapse([]string{"true", "false", "1", "0"}[g.r.IntN(4)], attr)
	// No white space around dates: the schema allows it (whiteSpace
	// collapse) but libxml2 rejects it.
	case "xs:date":
		return g.dateValue() + g.zone(0.4)
	case "xs:dateTime":
		return g.dateValue() + "T" + g.timeValue() + g.zone(0.5)
	case "xs:gYearMonth":
		return g.dateValue()[:7] + g.zone(0.2)
	}
	panic("simple base " + st.base + " is not handled")
}

// collapse sometimes surrounds a decimal or boolean (types whose white
// space is collapsed) with white space.
func (g *docGen) collapse(v string, attr bool) string {
	if attr || !g.chance(0.08) {
		return v
	}
	ws := []string{" ", "\n", "\t", "  \n  "}
	return ws[g.r.IntN(len(ws))] + v + ws[g.r.IntN(len(ws))]
}

func (g *docGen) patternValue(st *xsdSimple) string {
	switch st.name {
	case "IBAN2007Identifier":
		if g.chance(0.5) {
			return g.realIBAN()
		}
	case "ActiveOrHistoricCurrencyCode", "ActiveCurrencyCode":
		if g.chance(0.7) {
			return realCurrencies[g.r.IntN(len(realCurrencies))]
		}
	}
	pg := g.pats[st.name]
	for range 50 {
		mode := reRandom
		if x := g.r.Float64(); x < 0.15 {
			mode = reShortest
		} else if x < 0.3 {
			mode = reLongest
		}
		v := pg.gen(g.r, mode)
		n := len([]rune(v))
		if (st.minLen < 0 || n >= st.minLen) && (st.maxLen < 0 || n <= st.maxLen) {
			return v
		}
	}
	panic(fmt.Sprintf("no value of %s (pattern %q) within its length bounds", st.name, pg.src))
}

// realIBAN returns an IBAN with valid check digits for a common country.
func (g *docGen) realIBAN() string {
	countries := []struct {
		cc  string
		len int
	}{{"DE", 18}, {"FR", 23}, {"CH", 17}, {"NL", 14}, {"BE", 12}, {"GB", 18}, {"IT", 23}, {"AT", 16}, {"LU", 16}}
	c := countries[g.r.IntN(len(countries))]
	bban := make([]byte, c.len)
	for i := range bban {
		bban[i] = byte('0' + g.r.IntN(10))
	}
	if c.cc == "NL" || c.cc == "GB" { // bank code letters
		for i := range 4 {
			bban[i] = byte('A' + g.r.IntN(26))
		}
	}
	return c.cc + ibanCheck(c.cc, string(bban)) + string(bban)
}

// ibanCheck computes the two check digits of ISO 13616.
func ibanCheck(cc, bban string) string {
	var digits strings.Builder
	for _, ch := range bban + cc + "00" {
		if ch >= 'A' && ch <= 'Z' {
			digits.WriteString(strconv.Itoa(int(ch-'A') + 10))
		} else {
			digits.WriteRune(ch)
		}
	}
	n, _ := new(big.Int).SetString(digits.String(), 10)
	m := new(big.Int).Mod(n, big.NewInt(97)).Int64()
	return fmt.Sprintf("%02d", 98-m)
}

// Alphabets of generated text.
const (
	refChars  = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-/"
	wordChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ    "
)

var oddRunes = []rune("&<>\"'éüßñøÅ€中文ā😀\t\n ;:]}=?#%")

// plainText is a short text of letters and spaces, for comments.
func (g *docGen) plainText(lo, hi int) string {
	n := lo + g.r.IntN(hi-lo+1)
	b := make([]byte, n)
	for i := range b {
		b[i] = wordChars[g.r.IntN(len(wordChars))]
	}
	return string(b)
}

// textValue returns a string of lo to hi characters (runes), sometimes
// exactly lo or hi, of one of several flavours.
func (g *docGen) textValue(lo, hi int) string {
	lo = max(lo, 1)
	n := lo
	switch x := g.r.Float64(); {
	case x < 0.15:
	case x < 0.3:
		n = hi
	default:
		n = lo + g.r.IntN(max(min(hi, 40)-lo, 0)+1)
	}
	out := make([]rune, n)
	flavour := g.r.Float64()
	for i := range out {
		switch {
		case flavour < 0.4:
			out[i] = rune(refChars[g.r.IntN(len(refChars))])
		case flavour < 0.65:
			out[i] = rune(wordChars[g.r.IntN(len(wordChars))])
		case flavour < 0.95:
			if g.chance(0.3) {
				out[i] = oddRunes[g.r.IntN(len(oddRunes))]
			} else {
				out[i] = rune(wordChars[g.r.IntN(len(wordChars))])
			}
		default:
			out[i] = []rune(" \t\n")[g.r.IntN(3)] // white space only
		}
	}
	if flavour >= 0.4 && flavour < 0.95 && n >= 3 && g.chance(0.2) {
		out[0], out[n-1] = ' ', '\n' // padded
	}
	return string(out)
}

// decimalValue returns an xs:decimal within the facets of st.
func (g *docGen) decimalValue(st *xsdSimple) string {
	total, frac := st.totalDigits, st.fractionDigits
	if total < 0 {
		total = 18
	}
	if frac < 0 {
		frac = min(total-1, 6)
	}
	neg := false
	switch st.minIncl {
	case "":
		neg = g.chance(0.2)
	case "0":
	default:
		panic("minInclusive " + st.minIncl + " is not handled")
	}
	if st.maxIncl != "" {
		panic("maxInclusive is not handled")
	}
	var intPart, fracPart string
	nines := func(n int) string { return strings.Repeat("9", n) }
	switch x := g.r.Float64(); {
	case x < 0.08: // zero
		intPart = "0"
		if frac > 0 && g.chance(0.5) {
			fracPart = strings.Repeat("0", 1+g.r.IntN(frac))
		}
	case x < 0.16: // the largest value: all digits nines
		f := frac
		if g.chance(0.3) {
			f = 0
		}
		intPart, fracPart = nines(total-f), nines(f)
		if intPart == "" {
			intPart = "0"
		}
	case x < 0.2 && frac > 0: // the smallest positive value
		intPart, fracPart = "0", strings.Repeat("0", frac-1)+"1"
	default:
		f := 0
		switch y := g.r.Float64(); {
		case y < 0.3:
			f = frac
		case y < 0.5:
		default:
			f = g.r.IntN(frac + 1)
		}
		maxInt := total - f
		ni := 1 + g.r.IntN(max(1, min(maxInt, 7)))
		if g.chance(0.05) {
			ni = max(1, maxInt)
		}
		intPart = g.digits(ni, true)
		fracPart = g.digits(f, false)
		if maxInt == 0 {
			intPart = "0"
		}
	}
	// Lexical variants xs:decimal allows.
	sign := ""
	switch {
	case neg:
		sign = "-"
	case g.chance(0.05):
		sign = "+"
	}
	// Leading zeros do not count in totalDigits: a few, and rarely very
	// many. Trailing fraction zeros do not count in fractionDigits, but
	// libxml2 counts them in totalDigits.
	room := total - len(strings.TrimLeft(intPart, "0")) - len(fracPart)
	if g.chance(0.05) {
		intPart = strings.Repeat("0", 1+g.r.IntN(3)) + intPart
	} else if g.chance(0.0005) {
		intPart = strings.Repeat("0", 30+g.r.IntN(20)) + intPart
	}
	if fracPart != "" && room > 0 && g.chance(0.05) {
		fracPart += strings.Repeat("0", 1+g.r.IntN(room))
	}
	switch {
	case fracPart == "" && g.chance(0.03):
		return sign + intPart + "."
	case fracPart != "" && intPart == "0" && g.chance(0.1):
		return sign + "." + fracPart
	case fracPart != "":
		return sign + intPart + "." + fracPart
	}
	return sign + intPart
}

// digits returns n random digits; lead: the first is not 0 (unless n is 1).
func (g *docGen) digits(n int, lead bool) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('0' + g.r.IntN(10))
	}
	if lead && n > 1 && b[0] == '0' {
		b[0] = byte('1' + g.r.IntN(9))
	}
	return string(b)
}

func (g *docGen) dateValue() string {
	var y int
	switch x := g.r.Float64(); {
	case x < 0.05:
		y = []int{1, 9999, 1970, 2000, 1900, 2038}[g.r.IntN(6)]
	default:
		y = 1990 + g.r.IntN(46)
	}
	m := 1 + g.r.IntN(12)
	days := [13]int{0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}[m]
	if m == 2 && (y%4 == 0 && y%100 != 0 || y%400 == 0) {
		days = 29
	}
	d := 1 + g.r.IntN(days)
	if g.chance(0.1) {
		d = days // last day of the month, 29 February included
	}
	return fmt.Sprintf("%04d-%02d-%02d", y, m, d)
}

func (g *docGen) timeValue() string {
	h, mi, s := g.r.IntN(24), g.r.IntN(60), g.r.IntN(60)
	if g.chance(0.05) {
		h, mi, s = 23, 59, 59
	}
	t := fmt.Sprintf("%02d:%02d:%02d", h, mi, s)
	if g.chance(0.3) {
		t += "." + g.digits(1+g.r.IntN(9), false)
		if g.chance(0.05) {
			t += g.digits(3, false) // more than nanoseconds
		}
	}
	return t
}

// zone returns "" (with probability 1-p) or a time zone.
func (g *docGen) zone(p float64) string {
	if !g.chance(p) {
		return ""
	}
	switch x := g.r.Float64(); {
	case x < 0.4:
		return "Z"
	case x < 0.5:
		return []string{"+14:00", "-14:00", "+00:00", "-00:00"}[g.r.IntN(4)]
	}
	sign := "+"
	if g.chance(0.5) {
		sign = "-"
	}
	return fmt.Sprintf("%s%02d:%02d", sign, g.r.IntN(14), []int{0, 30, 45}[g.r.IntN(3)])
}
