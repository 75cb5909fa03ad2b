package camt

// A string generator for XSD patterns: the pattern is parsed by
// regexp/syntax and its tree walked, picking a branch, a repetition count
// and a character at each node. XSD patterns are anchored and their syntax
// is close to Perl's for the subset the camt XSDs use (classes, ranges,
// escapes, {n,m}, ?, groups, alternation); \i, \c and character class
// subtraction are not supported and make newPatternGen fail.

import (
	"fmt"
	"math/rand/v2"
	"regexp"
	"regexp/syntax"
	"strings"
	"testing"
	"unicode/utf8"
)

// Generation modes: random, or the shortest / longest string the pattern
// allows (boundary values).
const (
	reRandom = iota
	reShortest
	reLongest
)

// reMaxUnbounded caps *, + and {n,} at n+reMaxUnbounded repetitions.
const reMaxUnbounded = 8

type patternGen struct {
	src  string
	tree *syntax.Regexp
	full *regexp.Regexp // ^(?:src)$, to check what is generated
}

func newPatternGen(src string) (*patternGen, error) {
	if strings.Contains(src, `\i`) || strings.Contains(src, `\c`) || classSubtraction(src) {
		return nil, fmt.Errorf("pattern %q uses XSD-only syntax (\\i, \\c or class subtraction)", src)
	}
	tree, err := syntax.Parse(src, syntax.Perl)
	if err != nil {
		return nil, fmt.Errorf("pattern %q: %w", src, err)
	}
	full, err := regexp.Compile(`^(?:` + src + `)$`)
	if err != nil {
		return nil, err
	}
	return &patternGen{src: src, tree: tree, full: full}, nil
}

// classSubtraction reports whether an XSD pattern subtracts a class from
// a class ([a-z-[aeiou]]), which Go's syntax reads differently.
func classSubtraction(src string) bool {
	in := false
	for i := 0; i < len(src); i++ {
		switch c := src[i]; {
		case c == '\\':
			i++
		case c == '[' && !in:
			in = true
		case c == ']':
			in = false
		case c == '-' && in && i+1 < len(src) && src[i+1] == '[':
			return true
		}
	}
	return false
}

// gen returns a string matching the pattern.
func (p *patternGen) gen(r *rand.Rand, mode int) string {
	var b strings.Builder
	walkRegexp(r, p.tree, mode, &b)
	return b.String()
}

func walkRegexp(r *rand.Rand, re *syntax.Regexp, mode int, b *strings.Builder) {
	switch re.Op {
	case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText, syntax.OpEndText,
		syntax.OpWordBoundary, syntax.OpNoWordBoundary:
	case syntax.OpLiteral:
		for _, c := range re.Rune {
			if re.Flags&syntax.FoldCase != 0 && r.IntN(2) == 0 {
				c = flipCase(c)
			}
			b.WriteRune(c)
		}
	case syntax.OpCharClass:
		b.WriteRune(pickFromClass(r, re.Rune))
	case syntax.OpAnyCharNotNL, syntax.OpAnyChar:
		b.WriteRune(rune(' ' + r.IntN(95)))
	case syntax.OpCapture:
		walkRegexp(r, re.Sub[0], mode, b)
	case syntax.OpConcat:
		for _, s := range re.Sub {
			walkRegexp(r, s, mode, b)
		}
	case syntax.OpAlternate:
		walkRegexp(r, re.Sub[r.IntN(len(re.Sub))], mode, b)
	case syntax.OpStar, syntax.OpPlus, syntax.OpQuest, syntax.OpRepeat:
		lo, hi := 0, 1
		switch re.Op {
		case syntax.OpStar:
			hi = reMaxUnbounded
		case syntax.OpPlus:
			lo, hi = 1, 1+reMaxUnbounded
		case syntax.OpRepeat:
			lo, hi = re.Min, re.Max
			if hi < 0 {
				hi = lo + reMaxUnbounded
			}
		}
		n := lo
		switch mode {
		case reLongest:
			n = hi
		case reRandom:
			n = lo + r.IntN(hi-lo+1)
		}
		for range n {
			walkRegexp(r, re.Sub[0], mode, b)
		}
	default:
		panic(fmt.Sprintf("regexp op %v is not handled", re.Op))
	}
}

func flipCase(c rune) rune {
	switch {
	case c >= 'a' && c <= 'z':
		return c - 'a' + 'A'
	case c >= 'A' && c <= 'Z':
		return c - 'A' + 'a'
	}
	return c
}

// pickFromClass picks a rune from a class given as [lo, hi] pairs, each
// range weighted by its size (capped, so that a huge negated class does
// not always yield exotic runes), skipping runes XML cannot carry.
func pickFromClass(r *rand.Rand, pairs []rune) rune {
	for range 100 {
		total := 0
		for i := 0; i < len(pairs); i += 2 {
			total += min(int(pairs[i+1]-pairs[i])+1, 128)
		}
		k := r.IntN(total)
		for i := 0; i < len(pairs); i += 2 {
			size := min(int(pairs[i+1]-pairs[i])+1, 128)
			if k < size {
				c := pairs[i] + rune(k)
				if xmlChar(c) {
					return c
				}
				break
			}
			k -= size
		}
	}
	panic(fmt.Sprintf("no XML character found in class %q", pairs))
}

// xmlChar reports whether c may appear in an XML 1.0 document (other than
// the line ends, which parsers normalise).
func xmlChar(c rune) bool {
	switch {
	case c == '\t' || c == '\n':
		return true
	case c < 0x20 || c == 0x7F:
		return false
	case c >= 0xD800 && c <= 0xDFFF, c == 0xFFFE, c == 0xFFFF:
		return false
	}
	return c <= utf8.MaxRune
}

// TestXSDGenPatterns checks the pattern generator on every pattern of the
// camt .08 XSDs and on some harder ones: each generated string, random,
// shortest or longest, must match the pattern, and the random ones must
// vary.
func TestXSDGenPatterns(t *testing.T) {
	pats := []string{`(ab|c[d-f]{2}){1,3}x?`, `[\+]{0,1}[0-9]{1,15}`, `\+[0-9]{1,3}-[0-9()+\-]{1,30}`, `[^<>]{3}`, `a+b*`}
	for _, s := range loadCamtSchemas(t, needSpecDir(t)) {
		pats = append(pats, s.patternsOf()...)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for _, src := range pats {
		p, err := newPatternGen(src)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for i := range 300 {
			s := p.gen(r, i%3)
			if !p.full.MatchString(s) {
				t.Fatalf("pattern %q: generated %q does not match", src, s)
			}
			seen[s] = true
		}
		if len(seen) < 2 {
			t.Errorf("pattern %q: only %d distinct strings in 300", src, len(seen))
		}
	}
	for _, p := range []string{`\i\c*`, `[a-z-[aeiou]]`} {
		if _, err := newPatternGen(p); err == nil {
			t.Errorf("%s accepted: XSD-only syntax must be refused", p)
		}
	}
}
