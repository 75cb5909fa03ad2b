// Command domainmove is the mechanical half of scripts/refactor/domain.sh
// (issue 15): it moves the declarations of the domain out of package
// matcher into package domain, and rewrites every reference to them. It is
// idempotent: run again after a merge, it only rewrites the references new
// code made to the old places.
//
//	go run ./scripts/refactor/domainmove          # from the module root
//
// Steps:
//  1. split: the declarations named in splits leave their matcher file for
//     the domain file named there (skipped once the names are gone);
//  2. qualify, in package matcher: every identifier that the type checker
//     resolves to a name the domain now declares becomes domain.Name (a
//     temporary file of aliases lets it resolve them after the move);
//  3. requalify, everywhere else: matcher.Name becomes domain.Name for each
//     name the domain declares and the matcher no longer does;
//  4. imports: the domain's import is added where it is used and the
//     matcher's removed where it is no longer used.
//
// Edits are made on the text, by byte offsets, so comments and layout stay
// as they were; gofmt runs afterwards (domain.sh).
package main

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

const (
	module    = "github.com/lettrage/lettrage"
	matchPath = module + "/matcher"
	domPath   = module + "/domain"
)

// split moves the top-level declarations of from whose names satisfy take
// (a whole const block moves when one of its names does) to the file to.
type split struct {
	from, to string
	take     func(name string) bool
}

var splits = []split{
	{from: "matcher/types.go", to: "domain/types.go", take: func(n string) bool {
		return n != "Memory" && n != "Learning" && n != "Input" && n != "Output"
	}},
	{from: "matcher/match.go", to: "domain/reasons.go", take: func(n string) bool {
		return strings.HasPrefix(n, "Reason")
	}},
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "domainmove:", err)
		os.Exit(1)
	}
}

func run() error {
	for _, s := range splits {
		if err := s.apply(); err != nil {
			return fmt.Errorf("splitting %s: %w", s.from, err)
		}
	}
	names, err := exported("domain")
	if err != nil {
		return fmt.Errorf("listing the domain's names: %w", err)
	}
	if err := qualifyMatcher(names); err != nil {
		return fmt.Errorf("qualifying package matcher: %w", err)
	}
	kept, err := exported("matcher")
	if err != nil {
		return fmt.Errorf("listing the matcher's names: %w", err)
	}
	moved := map[string]bool{}
	for n := range names {
		if !kept[n] {
			moved[n] = true
		}
	}
	return requalifyAll(moved)
}

// declNames returns the names a top-level declaration declares.
func declNames(d ast.Decl) []string {
	switch d := d.(type) {
	case *ast.FuncDecl:
		if d.Recv != nil && len(d.Recv.List) == 1 {
			return []string{recvType(d.Recv.List[0].Type)}
		}
		return []string{d.Name.Name}
	case *ast.GenDecl:
		var ns []string
		for _, s := range d.Specs {
			switch s := s.(type) {
			case *ast.TypeSpec:
				ns = append(ns, s.Name.Name)
			case *ast.ValueSpec:
				for _, n := range s.Names {
					ns = append(ns, n.Name)
				}
			}
		}
		return ns
	}
	return nil
}

func recvType(e ast.Expr) string {
	switch e := e.(type) {
	case *ast.StarExpr:
		return recvType(e.X)
	case *ast.Ident:
		return e.Name
	}
	return ""
}

func (s split) apply() error {
	src, err := os.ReadFile(s.from)
	if err != nil {
		return err
	}
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, s.from, src, parser.ParseComments)
	if err != nil {
		return err
	}
	var out bytes.Buffer
	type span struct{ start, end int }
	var cut []span
	for _, d := range f.Decls {
		if gd, ok := d.(*ast.GenDecl); ok && gd.Tok == token.IMPORT {
			continue
		}
		take := false
		for _, n := range declNames(d) {
			take = take || s.take(n)
		}
		if !take {
			continue
		}
		start := d.Pos()
		if doc := docOf(d); doc != nil {
			start = doc.Pos()
		}
		sp := span{fset.Position(start).Offset, fset.Position(d.End()).Offset}
		out.Write(src[sp.start:sp.end])
		out.WriteString("\n\n")
		cut = append(cut, sp)
	}
	if len(cut) == 0 {
		return nil // already split
	}
	rest := src
	for i := len(cut) - 1; i >= 0; i-- {
		rest = append(append([]byte{}, rest[:cut[i].start]...), bytes.TrimLeft(rest[cut[i].end:], "\n")...)
	}
	rest, err = dropUnusedImports(s.from, rest)
	if err != nil {
		return err
	}
	if err := os.WriteFile(s.from, rest, 0o644); err != nil {
		return err
	}
	body := out.String()
	var imps []string
	for _, imp := range f.Imports {
		p := strings.Trim(imp.Path.Value, `"`)
		if strings.Contains(body, filepath.Base(p)+".") {
			imps = append(imps, imp.Path.Value)
		}
	}
	head := "package domain\n\n"
	if len(imps) > 0 {
		head += "import (\n\t" + strings.Join(imps, "\n\t") + "\n)\n\n"
	}
	if old, err := os.ReadFile(s.to); err == nil {
		head = string(old) + "\n"
	}
	return os.WriteFile(s.to, []byte(head+body), 0o644)
}

func docOf(d ast.Decl) *ast.CommentGroup {
	switch d := d.(type) {
	case *ast.FuncDecl:
		return d.Doc
	case *ast.GenDecl:
		return d.Doc
	}
	return nil
}

// exported returns the exported top-level names the non-test files of the
// package in dir declare (methods left out).
func exported(dir string) (map[string]bool, error) {
	fset := token.NewFileSet()
	files, err := parseDir(fset, dir, false)
	if err != nil {
		return nil, err
	}
	names := map[string]bool{}
	for _, f := range files {
		for _, d := range f.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok && fd.Recv != nil {
				continue
			}
			for _, n := range declNames(d) {
				if ast.IsExported(n) {
					names[n] = true
				}
			}
		}
	}
	return names, nil
}

// parseDir parses the .go files of dir of its own package (external test
// files left out); tests says whether _test.go files are included.
func parseDir(fset *token.FileSet, dir string, tests bool) (map[string]*ast.File, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	files := map[string]*ast.File{}
	for _, e := range ents {
		n := e.Name()
		if !strings.HasSuffix(n, ".go") || (!tests && strings.HasSuffix(n, "_test.go")) {
			continue
		}
		p := filepath.Join(dir, n)
		f, err := parser.ParseFile(fset, p, nil, parser.ParseComments)
		if err != nil {
			return nil, err
		}
		if strings.HasSuffix(f.Name.Name, "_test") {
			continue
		}
		files[p] = f
	}
	return files, nil
}

const aliasFile = "matcher/zz_domainmove_aliases.go"

// qualifyMatcher rewrites, in package matcher (internal tests included),
// the identifiers that resolve to a name of the domain.
func qualifyMatcher(names map[string]bool) error {
	if err := writeAliases(names); err != nil {
		return err
	}
	defer os.Remove(aliasFile)
	fset := token.NewFileSet()
	files, err := parseDir(fset, "matcher", true)
	if err != nil {
		return err
	}
	var list []*ast.File
	for p, f := range files {
		if p != aliasFile {
			list = append(list, f)
		}
	}
	alias := files[aliasFile]
	info := &types.Info{Uses: map[*ast.Ident]types.Object{}}
	conf := types.Config{Importer: importer.ForCompiler(fset, "source", nil), Error: func(error) {}}
	if _, err := conf.Check(matchPath, fset, append(list, alias), info); err != nil {
		fmt.Fprintln(os.Stderr, "domainmove: type checking matcher (continuing):", err)
	}
	edits := map[string][]edit{}
	for id, obj := range info.Uses {
		if obj == nil || obj.Pkg() == nil || obj.Pkg().Path() != matchPath || !names[obj.Name()] {
			continue
		}
		if p := fset.Position(obj.Pos()); p.Filename != aliasFile {
			continue // the matcher's own declaration of that name
		}
		p := fset.Position(id.Pos())
		edits[p.Filename] = append(edits[p.Filename], edit{p.Offset, len(id.Name), "domain." + id.Name})
	}
	for p, es := range edits {
		if err := applyEdits(p, es, true); err != nil {
			return err
		}
	}
	return nil
}

// writeAliases writes, into package matcher, an alias for each name of the
// domain that the matcher does not declare itself, so that code written
// before the move type-checks.
func writeAliases(names map[string]bool) error {
	kept, err := exported("matcher")
	if err != nil {
		return err
	}
	fset := token.NewFileSet()
	dom, err := parseDir(fset, "domain", false)
	if err != nil {
		return err
	}
	var b strings.Builder
	b.WriteString("package matcher\n\nimport \"" + domPath + "\"\n\n")
	var sorted []string
	for n := range names {
		if !kept[n] {
			sorted = append(sorted, n)
		}
	}
	sort.Strings(sorted)
	kinds := kindsOf(dom)
	for _, n := range sorted {
		switch kinds[n] {
		case token.TYPE:
			fmt.Fprintf(&b, "type %s = domain.%s\n", n, n)
		case token.CONST:
			fmt.Fprintf(&b, "const %s = domain.%s\n", n, n)
		default:
			fmt.Fprintf(&b, "var %s = domain.%s\n", n, n)
		}
	}
	b.WriteString("\nvar _ domain.Amount\n")
	return os.WriteFile(aliasFile, []byte(b.String()), 0o644)
}

func kindsOf(files map[string]*ast.File) map[string]token.Token {
	k := map[string]token.Token{}
	for _, f := range files {
		for _, d := range f.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok {
				continue
			}
			for _, n := range declNames(gd) {
				k[n] = gd.Tok
			}
		}
	}
	return k
}

type edit struct {
	off, n int
	with   string
}

// applyEdits replaces the spans of es in the file p and, when domain is
// used after that, makes sure the file imports it (and drops an unused
// import of the matcher).
func applyEdits(p string, es []edit, addImport bool) error {
	src, err := os.ReadFile(p)
	if err != nil {
		return err
	}
	sort.Slice(es, func(i, j int) bool { return es[i].off > es[j].off })
	for _, e := range es {
		src = append(append(append([]byte{}, src[:e.off]...), e.with...), src[e.off+e.n:]...)
	}
	if addImport {
		src, err = fixImports(p, src)
		if err != nil {
			return err
		}
	}
	return os.WriteFile(p, src, 0o644)
}

// fixImports adds the domain's import to src when it is used and not
// imported, and removes the matcher's when it is no longer used.
func fixImports(p string, src []byte) ([]byte, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, p, src, parser.ImportsOnly)
	if err != nil {
		return nil, err
	}
	full, err := parser.ParseFile(token.NewFileSet(), p, src, 0)
	if err != nil {
		return nil, err
	}
	uses := selectorRoots(full)
	hasDomain := false
	var matcherSpec *ast.ImportSpec
	for _, imp := range f.Imports {
		switch strings.Trim(imp.Path.Value, `"`) {
		case domPath:
			hasDomain = true
		case matchPath:
			if imp.Name == nil {
				matcherSpec = imp
			}
		}
	}
	if matcherSpec != nil && !uses["matcher"] {
		s := fset.Position(matcherSpec.Pos()).Offset
		e := fset.Position(matcherSpec.End()).Offset
		if uses["domain"] && !hasDomain {
			return append(append(append([]byte{}, src[:s]...), `"`+domPath+`"`...), src[e:]...), nil
		}
		return append(append([]byte{}, src[:s]...), src[e:]...), nil
	}
	if !uses["domain"] || hasDomain {
		return src, nil
	}
	if matcherSpec != nil {
		s := fset.Position(matcherSpec.Pos()).Offset
		if gd := declOf(f, matcherSpec); gd != nil && !gd.Lparen.IsValid() {
			s = fset.Position(gd.Pos()).Offset // import "…/matcher" alone
			return append(append(append([]byte{}, src[:s]...), "import \""+domPath+"\"\n"...), src[s:]...), nil
		}
		return append(append(append([]byte{}, src[:s]...), `"`+domPath+`"`+"\n\t"...), src[s:]...), nil
	}
	if len(f.Imports) == 0 {
		e := fset.Position(f.Name.End()).Offset
		return append(append(append([]byte{}, src[:e]...), "\n\nimport \""+domPath+"\""...), src[e:]...), nil
	}
	last := f.Decls[len(f.Decls)-1].(*ast.GenDecl)
	if last.Lparen.IsValid() {
		e := fset.Position(last.Rparen).Offset
		sep := "\n" // a group of its own after the standard library's
		if lastPath := f.Imports[len(f.Imports)-1].Path.Value; strings.Contains(lastPath, ".") {
			sep = ""
		}
		return append(append(append([]byte{}, src[:e]...), sep+"\n\t\""+domPath+"\"\n"...), src[e:]...), nil
	}
	s := fset.Position(last.Pos()).Offset
	return append(append(append([]byte{}, src[:s]...), "import \""+domPath+"\"\n"...), src[s:]...), nil
}

// requalifyAll rewrites matcher.Name into domain.Name in every Go file of
// the module outside the matcher and domain folders.
func requalifyAll(moved map[string]bool) error {
	return filepath.WalkDir(".", func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch p {
			case ".git", "domain", "scripts/refactor":
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") {
			return nil
		}
		return requalify(p, moved)
	})
}

func requalify(p string, moved map[string]bool) error {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, p, nil, parser.ParseComments)
	if err != nil {
		return err
	}
	es := commentEdits(fset, f, moved)
	name := ""
	for _, imp := range f.Imports {
		if strings.Trim(imp.Path.Value, `"`) == matchPath {
			name = "matcher"
			if imp.Name != nil {
				name = imp.Name.Name
			}
		}
	}
	if name != "" && name != "matcher" {
		return fmt.Errorf("%s imports the matcher as %s: rewrite it by hand", p, name)
	}
	code := 0
	if name != "" {
		ast.Inspect(f, func(n ast.Node) bool {
			// A local named domain (an Odoo search domain) would hide the
			// package: it becomes searchDomain.
			if id, ok := n.(*ast.Ident); ok && id.Name == "domain" && id.Obj != nil {
				es = append(es, edit{fset.Position(id.Pos()).Offset, len(id.Name), "searchDomain"})
			}
			se, ok := n.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			if x, ok := se.X.(*ast.Ident); ok && x.Name == name && x.Obj == nil && moved[se.Sel.Name] {
				es = append(es, edit{fset.Position(x.Pos()).Offset, len(x.Name), "domain"})
				code++
			}
			return true
		})
	}
	if code == 0 {
		// only comments (a local named domain stays as it is)
		var cs []edit
		for _, e := range es {
			if e.with != "searchDomain" {
				cs = append(cs, e)
			}
		}
		if len(cs) == 0 {
			return nil
		}
		return applyEdits(p, cs, false)
	}
	return applyEdits(p, es, true)
}

var commentRef = regexp.MustCompile(`\bmatcher\.([A-Z][A-Za-z0-9_]*)`)

// commentEdits rewrites matcher.Name into domain.Name in the comments of
// f, for the names that moved.
func commentEdits(fset *token.FileSet, f *ast.File, moved map[string]bool) []edit {
	var es []edit
	for _, cg := range f.Comments {
		for _, c := range cg.List {
			base := fset.Position(c.Pos()).Offset
			for _, m := range commentRef.FindAllStringSubmatchIndex(c.Text, -1) {
				if moved[c.Text[m[2]:m[3]]] {
					es = append(es, edit{base + m[0], len("matcher"), "domain"})
				}
			}
		}
	}
	return es
}

// declOf returns the import declaration that holds spec.
func declOf(f *ast.File, spec *ast.ImportSpec) *ast.GenDecl {
	for _, d := range f.Decls {
		if gd, ok := d.(*ast.GenDecl); ok {
			for _, sp := range gd.Specs {
				if sp == spec {
					return gd
				}
			}
		}
	}
	return nil
}

// selectorRoots returns the identifiers used as X in X.Sel in f.
func selectorRoots(f *ast.File) map[string]bool {
	uses := map[string]bool{}
	ast.Inspect(f, func(n ast.Node) bool {
		if se, ok := n.(*ast.SelectorExpr); ok {
			if x, ok := se.X.(*ast.Ident); ok {
				uses[x.Name] = true
			}
		}
		return true
	})
	return uses
}

// dropUnusedImports removes from src the unnamed imports whose package is
// no longer used (after declarations left the file).
func dropUnusedImports(p string, src []byte) ([]byte, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, p, src, 0)
	if err != nil {
		return nil, err
	}
	uses := selectorRoots(f)
	for i := len(f.Imports) - 1; i >= 0; i-- {
		imp := f.Imports[i]
		if imp.Name != nil || uses[filepath.Base(strings.Trim(imp.Path.Value, `"`))] {
			continue
		}
		s := fset.Position(imp.Pos()).Offset
		e := fset.Position(imp.End()).Offset
		src = append(append([]byte{}, src[:s]...), src[e:]...)
	}
	// an import block left empty goes too
	f, err = parser.ParseFile(fset, p, src, parser.ImportsOnly)
	if err != nil {
		return nil, err
	}
	for i := len(f.Decls) - 1; i >= 0; i-- {
		if gd, ok := f.Decls[i].(*ast.GenDecl); ok && gd.Tok == token.IMPORT && len(gd.Specs) == 0 {
			s, e := fset.Position(gd.Pos()).Offset, fset.Position(gd.End()).Offset
			src = append(append([]byte{}, src[:s]...), src[e:]...)
		}
	}
	return src, nil
}
