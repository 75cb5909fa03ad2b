package domain

import "strings"

// placeholderRefs are what banks write where a reference is mandatory but
// they have none: never an identity, never evidence.
var placeholderRefs = map[string]bool{
	"NOTPROVIDED": true, "NOT PROVIDED": true, "NONREF": true, "NONE": true,
	"N/A": true, "NA": true, "NOREF": true, "UNKNOWN": true,
}

// IsPlaceholderRef reports whether a bank reference (AcctSvcrRef, NtryRef,
// EndToEndId…) carries no identity: empty, a known placeholder
// (NOTPROVIDED, NONREF, NONE, N/A…, in any case) or made only of zeros,
// spaces, dashes and dots ("000000", "0", "-").
func IsPlaceholderRef(s string) bool {
	s = strings.TrimSpace(s)
	if s == "" || placeholderRefs[strings.ToUpper(s)] {
		return true
	}
	for _, r := range s {
		switch r {
		case '0', ' ', '-', '.':
		default:
			return false
		}
	}
	return true
}
