package release

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strings"
)

// CycloneDX 1.5 JSON, the part an SBOM of a Go binary needs.
type cdxBOM struct {
	BOMFormat    string         `json:"bomFormat"`
	SpecVersion  string         `json:"specVersion"`
	SerialNumber string         `json:"serialNumber"`
	Version      int            `json:"version"`
	Metadata     cdxMetadata    `json:"metadata"`
	Components   []cdxComponent `json:"components"`
	Dependencies []cdxDep       `json:"dependencies"`
}

type cdxMetadata struct {
	Timestamp string       `json:"timestamp,omitempty"`
	Tools     []cdxTool    `json:"tools"`
	Component cdxComponent `json:"component"`
}

type cdxTool struct {
	Name    string `json:"name"`
	Version string `json:"version,omitempty"`
}

type cdxComponent struct {
	Type       string        `json:"type"`
	BOMRef     string        `json:"bom-ref"`
	Name       string        `json:"name"`
	Version    string        `json:"version,omitempty"`
	PURL       string        `json:"purl,omitempty"`
	Licenses   []cdxLicense  `json:"licenses,omitempty"`
	Hashes     []cdxHash     `json:"hashes,omitempty"`
	Properties []cdxProperty `json:"properties,omitempty"`
}

type cdxLicense struct {
	License cdxLicenseID `json:"license"`
}

type cdxLicenseID struct {
	ID   string `json:"id,omitempty"`
	Name string `json:"name,omitempty"`
}

type cdxHash struct {
	Alg     string `json:"alg"`
	Content string `json:"content"`
}

type cdxProperty struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type cdxDep struct {
	Ref       string   `json:"ref"`
	DependsOn []string `json:"dependsOn"`
}

func purl(path, version string) string {
	return "pkg:golang/" + path + "@" + version
}

func licenses(ids []string) []cdxLicense {
	var out []cdxLicense
	for _, id := range ids {
		if strings.HasPrefix(id, "LicenseRef-") || id == "blessing" {
			out = append(out, cdxLicense{cdxLicenseID{Name: id}})
		} else {
			out = append(out, cdxLicense{cdxLicenseID{ID: id}})
		}
	}
	return out
}

// SBOM writes a CycloneDX 1.5 SBOM of a Go binary from its own build
// information (debug/buildinfo): the main module with its version and VCS
// revision, every module linked in with its version, go.sum hash and
// licences (from the module cache at modCache; none when it is not
// there), and the Go toolchain. binary is hashed (SHA-256). The output is
// deterministic: the same binary gives the same document.
func SBOM(w io.Writer, bi *debug.BuildInfo, binary, version, modCache string) error {
	f, err := os.Open(binary)
	if err != nil {
		return fmt.Errorf("reading %s: %w", binary, err)
	}
	h := sha256.New()
	_, err = io.Copy(h, f)
	f.Close()
	if err != nil {
		return fmt.Errorf("hashing %s: %w", binary, err)
	}
	sum := hex.EncodeToString(h.Sum(nil))
	settings := map[string]string{}
	for _, s := range bi.Settings {
		settings[s.Key] = s.Value
	}
	main := cdxComponent{Type: "application", BOMRef: purl(bi.Main.Path, version), Name: bi.Main.Path,
		Version: version, PURL: purl(bi.Main.Path, version), Licenses: licenses([]string{"Apache-2.0"}),
		Hashes: []cdxHash{{Alg: "SHA-256", Content: sum}}}
	for _, k := range []string{"vcs.revision", "vcs.time", "vcs.modified", "GOOS", "GOARCH", "CGO_ENABLED", "-tags"} {
		if v, ok := settings[k]; ok {
			main.Properties = append(main.Properties, cdxProperty{Name: "golang:build:" + k, Value: v})
		}
	}
	bom := cdxBOM{BOMFormat: "CycloneDX", SpecVersion: "1.5", Version: 1,
		Metadata: cdxMetadata{Timestamp: settings["vcs.time"], Component: main,
			Tools: []cdxTool{{Name: "lettrage internal/cmd/release", Version: version}}}}
	toolchain := cdxComponent{Type: "library", BOMRef: purl("std", bi.GoVersion), Name: "std", Version: bi.GoVersion,
		PURL: purl("std", bi.GoVersion), Licenses: licenses([]string{"BSD-3-Clause"})}
	bom.Components = append(bom.Components, toolchain)
	deps := cdxDep{Ref: main.BOMRef, DependsOn: []string{toolchain.BOMRef}}
	mods := append([]*debug.Module(nil), bi.Deps...)
	sort.Slice(mods, func(i, j int) bool { return mods[i].Path < mods[j].Path })
	for _, m := range mods {
		if m.Replace != nil {
			m = m.Replace
		}
		c := cdxComponent{Type: "library", BOMRef: purl(m.Path, m.Version), Name: m.Path, Version: m.Version,
			PURL: purl(m.Path, m.Version)}
		if m.Sum != "" {
			c.Properties = append(c.Properties, cdxProperty{Name: "golang:go.sum", Value: m.Sum})
		}
		if modCache != "" {
			if ids, err := ModuleLicenses(ModuleDir(modCache, m.Path, m.Version)); err == nil {
				c.Licenses = licenses(ids)
			}
		}
		bom.Components = append(bom.Components, c)
		deps.DependsOn = append(deps.DependsOn, c.BOMRef)
	}
	bom.Dependencies = []cdxDep{deps}
	// A serial number derived from the content: the same binary, the same SBOM.
	body, err := json.Marshal(bom)
	if err != nil {
		return err
	}
	id := sha256.Sum256(body)
	x := hex.EncodeToString(id[:16])
	bom.SerialNumber = "urn:uuid:" + x[0:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:32]
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(bom)
}

// SHA256Sums writes one line per file, "<hex>  <base name>", the format
// `sha256sum -c` checks.
func SHA256Sums(w io.Writer, files []string) error {
	sort.Strings(files)
	for _, p := range files {
		f, err := os.Open(p)
		if err != nil {
			return fmt.Errorf("hashing %s: %w", p, err)
		}
		h := sha256.New()
		_, err = io.Copy(h, f)
		f.Close()
		if err != nil {
			return fmt.Errorf("hashing %s: %w", p, err)
		}
		if _, err := fmt.Fprintf(w, "%s  %s\n", hex.EncodeToString(h.Sum(nil)), filepath.Base(p)); err != nil {
			return err
		}
	}
	return nil
}
