package camt

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"strconv"
	"strings"

	"github.com/antchfx/xmlquery"
	"github.com/antchfx/xpath"
)

// extras are bank-specific XPath expressions evaluated on one entry at a
// time. The context node is the <Ntry> element, so relative paths such as
// "NtryDtls/TxDtls/Refs/Prtry/Ref" work; element names are unprefixed
// unless the document itself uses a prefix.
type extras struct {
	exprs []*xpath.Expr
	src   []string
}

// CompileExtras checks XPath expressions meant for Options.Extra, so that
// configuration validation can report a bad one before any file is read.
func CompileExtras(exprs []string) error {
	_, err := compileExtras(exprs)
	return err
}

func compileExtras(exprs []string) (*extras, error) {
	ex := &extras{}
	for i, s := range exprs {
		e, err := xpath.Compile(s)
		if err != nil {
			return nil, fmt.Errorf("compiling extra[%d] %q: %w", i, s, err)
		}
		ex.exprs = append(ex.exprs, e)
		ex.src = append(ex.src, s)
	}
	return ex, nil
}

// eval parses the raw bytes of one entry (bounded by Limits.MaxEntryBytes),
// wrapped in an element that re-declares the document's namespaces, and
// returns the non-empty values of every expression in order.
func (ex *extras) eval(raw []byte, ns []xml.Attr) ([]string, error) {
	var b bytes.Buffer
	b.Grow(len(raw) + 128)
	b.WriteString("<lettrage-entry")
	for _, a := range ns {
		name := "xmlns"
		if a.Name.Space == "xmlns" {
			name = "xmlns:" + a.Name.Local
		}
		b.WriteString(" " + name + `="`)
		if err := xml.EscapeText(&b, []byte(a.Value)); err != nil {
			return nil, fmt.Errorf("writing namespace: %w", err)
		}
		b.WriteString(`"`)
	}
	b.WriteString(">")
	b.Write(raw)
	b.WriteString("</lettrage-entry>")
	doc, err := xmlquery.Parse(&b)
	if err != nil {
		return nil, fmt.Errorf("parsing entry for XPath: %w", err)
	}
	var ctx *xmlquery.Node
	for n := doc.FirstChild; n != nil && ctx == nil; n = n.NextSibling {
		if n.Type == xmlquery.ElementNode {
			for c := n.FirstChild; c != nil; c = c.NextSibling {
				if c.Type == xmlquery.ElementNode {
					ctx = c
					break
				}
			}
		}
	}
	if ctx == nil {
		return nil, nil
	}
	var out []string
	for _, e := range ex.exprs {
		switch v := e.Evaluate(xmlquery.CreateXPathNavigator(ctx)).(type) {
		case *xpath.NodeIterator:
			for v.MoveNext() {
				if s := strings.TrimSpace(v.Current().Value()); s != "" {
					out = append(out, s)
				}
			}
		case string:
			if s := strings.TrimSpace(v); s != "" {
				out = append(out, s)
			}
		case float64:
			out = append(out, strconv.FormatFloat(v, 'f', -1, 64))
		case bool:
			out = append(out, strconv.FormatBool(v))
		}
	}
	return out, nil
}
