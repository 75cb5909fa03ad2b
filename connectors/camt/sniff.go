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
	if bytes.HasPrefix(head, []byte{0xFE, 0xFF}) || bytes.HasPrefix(head, []byte{0xFF, 0xFE}) {
		// UTF-16 with a byte order mark: the markup is ASCII, drop the
		// zero bytes of each code unit.
		big := head[0] == 0xFE
		ascii := make([]byte, 0, len(head)/2)
		for i := 2; i+1 < len(head); i += 2 {
			hi, lo := head[i], head[i+1]
			if !big {
				hi, lo = lo, hi
			}
			if hi == 0 {
				ascii = append(ascii, lo)
			} else {
				ascii = append(ascii, '?')
			}
		}
		head = ascii
	}
	head = bytes.TrimPrefix(head, []byte{0xEF, 0xBB, 0xBF})
	trimmed := bytes.TrimLeft(head, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '<' {
		return false
	}
	return sniffPattern.Match(head)
}
