package release

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime/debug"
	"strings"
	"testing"
)

func TestClassify(t *testing.T) {
	gpl, _ := os.ReadFile("/usr/share/common-licenses/GPL-3")
	lgpl, _ := os.ReadFile("/usr/share/common-licenses/LGPL-2.1")
	mpl, _ := os.ReadFile("/usr/share/common-licenses/MPL-2.0")
	apache, err := os.ReadFile(filepath.Join("..", "..", "LICENSE"))
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string][]string{
		string(apache): {"Apache-2.0"},
		"Permission is hereby granted, free of charge, to any\nperson obtaining a copy":                                                                  {"MIT"},
		"Redistribution and use in source and binary forms, with or without modification, are permitted … Neither the name of Google Inc. nor the names": {"BSD-3-Clause"},
		"Redistribution and use in source and binary forms, with or without modification, are permitted … IN NO EVENT SHALL THE COPYRIGHT HOLDER":        {"BSD-2-Clause"},
		"All of the code has been dedicated to the\npublic domain by the authors":                                                                        {"LicenseRef-public-domain"},
		"Some proprietary terms": nil,
	}
	if len(gpl) > 0 {
		cases[string(gpl)] = []string{"GPL"}
	}
	if len(lgpl) > 0 {
		cases[string(lgpl)] = []string{"LGPL"}
	}
	if len(mpl) > 0 {
		cases[string(mpl)] = []string{"MPL-2.0"} // its "Secondary License" names the GPL: not a GPL
	}
	for text, want := range cases {
		if got := Classify(text); !reflect.DeepEqual(got, want) && !(len(got) == 0 && len(want) == 0) {
			t.Errorf("Classify(%.60q…) = %v, want %v", text, got, want)
		}
	}
	if bad := Disallowed([]string{"MIT", "GPL", "LGPL", "Apache-2.0"}); !reflect.DeepEqual(bad, []string{"GPL", "LGPL"}) {
		t.Errorf("Disallowed = %v", bad)
	}
}

// TestRepositoryLicense: the repository is Apache-2.0, whole text.
func TestRepositoryLicense(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "LICENSE"))
	if err != nil {
		t.Fatal(err)
	}
	if got := Classify(string(b)); !reflect.DeepEqual(got, []string{"Apache-2.0"}) || !bytes.Contains(b, []byte("END OF TERMS AND CONDITIONS")) {
		t.Errorf("LICENSE is %v, want the whole Apache-2.0 text", got)
	}
}

// TestDependencyLicenses: every module linked into lettrage, on every
// release target, has a licence compatible with Apache-2.0.
func TestDependencyLicenses(t *testing.T) {
	mods, err := LinkedModules(filepath.Join("..", ".."), "./cmd/lettrage", Targets)
	if err != nil {
		t.Fatal(err)
	}
	if len(mods) < 20 {
		t.Fatalf("only %d modules linked: %v", len(mods), mods)
	}
	for _, m := range mods {
		if m.Err != nil {
			t.Errorf("%s %s: %v", m.Path, m.Version, m.Err)
		} else if bad := Disallowed(m.Licenses); len(bad) > 0 {
			t.Errorf("%s %s: %v not compatible with Apache-2.0", m.Path, m.Version, bad)
		}
	}
}

func TestModuleDirEscapes(t *testing.T) {
	if got := ModuleDir("/c", "github.com/BurntSushi/toml", "v1.0.0"); got != "/c/github.com/!burnt!sushi/toml@v1.0.0" {
		t.Errorf("ModuleDir = %s", got)
	}
}

// TestSBOM: a CycloneDX document of this test binary, from its build
// information: every module linked in, with a purl and (from the module
// cache) its licences; the same binary gives the same document.
func TestSBOM(t *testing.T) {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		t.Skip("no build information")
	}
	modCache, err := exec.Command("go", "env", "GOMODCACHE").Output()
	if err != nil {
		t.Fatal(err)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	var a, b bytes.Buffer
	if err := SBOM(&a, bi, exe, "v9.9.9", strings.TrimSpace(string(modCache))); err != nil {
		t.Fatal(err)
	}
	if err := SBOM(&b, bi, exe, "v9.9.9", strings.TrimSpace(string(modCache))); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Error("two SBOMs of the same binary differ")
	}
	var doc struct {
		BOMFormat, SpecVersion, SerialNumber string
		Metadata                             struct{ Component cdxComponent }
		Components                           []cdxComponent
	}
	if err := json.Unmarshal(a.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.BOMFormat != "CycloneDX" || doc.SpecVersion != "1.5" || !strings.HasPrefix(doc.SerialNumber, "urn:uuid:") {
		t.Errorf("header %+v", doc)
	}
	if c := doc.Metadata.Component; c.Version != "v9.9.9" || len(c.Hashes) != 1 || len(c.Hashes[0].Content) != 64 {
		t.Errorf("main component %+v", c)
	}
	want := map[string]bool{}
	for _, m := range bi.Deps {
		want[m.Path] = true
	}
	licensed := 0
	for _, c := range doc.Components {
		if !strings.HasPrefix(c.PURL, "pkg:golang/") {
			t.Errorf("component %s: purl %q", c.Name, c.PURL)
		}
		if len(c.Licenses) > 0 {
			licensed++
		}
		delete(want, c.Name)
	}
	if len(want) > 0 {
		t.Errorf("modules missing from the SBOM: %v", want)
	}
	if licensed < len(doc.Components)/2 {
		t.Errorf("only %d of %d components with a licence", licensed, len(doc.Components))
	}
}

func TestSHA256Sums(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a.txt")
	if err := os.WriteFile(p, []byte("hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := SHA256Sums(&b, []string{p}); err != nil {
		t.Fatal(err)
	}
	if got := b.String(); got != "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03  a.txt\n" {
		t.Errorf("sums = %q", got)
	}
}
