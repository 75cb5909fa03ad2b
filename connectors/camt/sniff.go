package camt

import (
	"bytes"
	"regexp"
)

var sniffPattern = regexp.MustCompile(`camt\.05[234]\.001\.\d\d|<(?:\w+:)?BkToCstmr(?:Stmt|AcctRpt|DbtCdtNtfctn)`)

// Sniff reports whether head, the first bytes of a file (up to 4 KiB is
// plenty), looks like a camt.052/053/054 document: markup first, and a
// camt.05x namespace or message element early on. It never reads more
// than 4 KiB of head.
func Sniff(head []byte) bool {
	if len(head) > 4096 {
		head = head[:4096]
	}
	head = bytes.TrimPrefix(head, []byte{0xEF, 0xBB, 0xBF})
	trimmed := bytes.TrimLeft(head, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '<' {
		return false
	}
	return sniffPattern.Match(head)
}
