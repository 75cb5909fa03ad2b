// Package release makes what a Lettrage release ships besides the
// binaries: the licences of the modules linked in (checked compatible with
// Apache-2.0), a CycloneDX SBOM from the binary's own build information,
// and SHA-256 sums. `make release` runs it through internal/cmd/release.
package release

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// Allowed are the licences Lettrage (Apache-2.0) may link and redistribute
// in binary form: permissive ones, and MPL-2.0 (file-level copyleft: its
// files stay under MPL-2.0, their source is public upstream). GPL, LGPL
// (static linking) and AGPL are not.
var Allowed = map[string]bool{
	"Apache-2.0": true, "MIT": true, "BSD-2-Clause": true, "BSD-3-Clause": true,
	"ISC": true, "MPL-2.0": true, "Zlib": true, "Unlicense": true, "CC0-1.0": true, "blessing": true,
	"LicenseRef-public-domain": true,
}

// licensePatterns recognise a licence from its text. Titles of the GNU
// licences are matched in capitals, as the licences write them, so that
// the MPL's definition of "Secondary License" is not taken for a GPL.
var licensePatterns = []struct {
	id string
	re *regexp.Regexp
}{
	{"Apache-2.0", regexp.MustCompile(`(?s)Apache License.{0,40}Version 2\.0`)},
	{"MIT", regexp.MustCompile(`Permission is hereby granted, free of charge, to any person obtaining`)},
	{"BSD-3-Clause", regexp.MustCompile(`(?s)Redistribution and use in source and binary forms.*(Neither the name|names of its contributors|name of the copyright holder)`)},
	{"BSD-2-Clause", regexp.MustCompile(`Redistribution and use in source and binary forms`)},
	{"ISC", regexp.MustCompile(`Permission to use, copy, modify, and(/or)? distribute this software for any`)},
	{"MPL-2.0", regexp.MustCompile(`Mozilla Public License,? [Vv]ersion 2\.0`)},
	{"Zlib", regexp.MustCompile(`This software is provided 'as-is', without any express or implied`)},
	{"Unlicense", regexp.MustCompile(`This is free and unencumbered software released into the public domain`)},
	{"CC0-1.0", regexp.MustCompile(`CC0 1\.0 Universal`)},
	{"blessing", regexp.MustCompile(`May you do good and not evil`)}, // SQLite's public-domain blessing
	{"LicenseRef-public-domain", regexp.MustCompile(`dedicated to the public domain`)},
	{"AGPL-3.0", regexp.MustCompile(`GNU AFFERO GENERAL PUBLIC LICENSE`)},
	{"LGPL", regexp.MustCompile(`GNU LESSER GENERAL PUBLIC LICENSE|GNU LIBRARY GENERAL PUBLIC LICENSE`)},
	{"GPL", regexp.MustCompile(`GNU GENERAL PUBLIC LICENSE`)},
}

// Classify names the licences a licence text holds (SPDX identifiers,
// sorted); none when it recognises nothing.
func Classify(text string) []string {
	text = strings.Join(strings.Fields(text), " ") // line breaks fall anywhere
	seen := map[string]bool{}
	for _, p := range licensePatterns {
		if p.re.MatchString(text) {
			seen[p.id] = true
		}
	}
	if seen["BSD-3-Clause"] {
		delete(seen, "BSD-2-Clause")
	}
	if seen["AGPL-3.0"] || seen["LGPL"] {
		delete(seen, "GPL") // their texts name the GPL too
	}
	out := make([]string, 0, len(seen))
	for id := range seen {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

// licenseFile matches the names of licence and notice files at a module's
// root: LICENSE, LICENSE.txt, COPYING, LICENSE-3RD-PARTY.md, LICENSE-GO…
var licenseFile = regexp.MustCompile(`(?i)^(licen[cs]e|copying|unlicense)([-._].*)?$`)

// ModuleLicenses classifies every licence file at the root of a module's
// folder and returns the licences found (an error when there is no licence
// file at all, or one it cannot classify).
func ModuleLicenses(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("reading module folder %s: %w", dir, err)
	}
	seen := map[string]bool{}
	files := 0
	for _, e := range entries {
		if e.IsDir() || !licenseFile.MatchString(e.Name()) {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", e.Name(), err)
		}
		files++
		ids := Classify(string(b))
		if len(ids) == 0 && !strings.Contains(strings.ToUpper(e.Name()), "LOGO") {
			return nil, fmt.Errorf("%s: a licence not recognised", filepath.Join(dir, e.Name()))
		}
		for _, id := range ids {
			seen[id] = true
		}
	}
	if files == 0 {
		return nil, fmt.Errorf("%s: no licence file", dir)
	}
	out := make([]string, 0, len(seen))
	for id := range seen {
		out = append(out, id)
	}
	sort.Strings(out)
	return out, nil
}

// Disallowed returns the licences of ids that Allowed does not hold.
func Disallowed(ids []string) []string {
	var out []string
	for _, id := range ids {
		if !Allowed[id] {
			out = append(out, id)
		}
	}
	return out
}

// ModuleDir is where the module cache holds path@version (paths and
// versions escaped as the cache escapes them: an upper-case letter is "!"
// and the letter in lower case).
func ModuleDir(modCache, path, version string) string {
	return filepath.Join(modCache, escape(path)+"@"+escape(version))
}

func escape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if 'A' <= r && r <= 'Z' {
			b.WriteByte('!')
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}
