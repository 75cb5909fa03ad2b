package deploy

import (
	"bufio"
	"crypto/sha256"
	"debug/elf"
	"debug/macho"
	"debug/pe"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/lettrage/lettrage/internal/release"
)

const releaseScript = "scripts/release.sh"

// TestReleaseTargetsMatch: the release script builds internal/release's
// targets (whose licences TestDependencyLicenses checks).
func TestReleaseTargetsMatch(t *testing.T) {
	m := regexp.MustCompile(`TARGETS=\$\{TARGETS:-"([^"]+)"\}`).FindStringSubmatch(string(readFile(t, releaseScript)))
	if m == nil || m[1] != strings.Join(release.Targets, " ") {
		t.Errorf("%s builds %v, internal/release.Targets is %v", releaseScript, m, release.Targets)
	}
}

// TestReleaseBuildsEveryTarget runs the release (scripts/release.sh, what
// `make release` runs) and checks what it ships: a static binary per
// target in that target's format, the version and revision stamped, no
// failpoint in them, the licences, an SBOM and SHA256SUMS that verify.
// Cross-compiling is slow the first time (the build cache keeps it after).
func TestReleaseBuildsEveryTarget(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the release cross-compiles every target")
	}
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is needed for the VCS revision")
	}
	dist := t.TempDir()
	const version = "v0.0.0-releasetest"
	cmd := exec.Command("bash", releaseScript)
	cmd.Dir = repoRoot
	cmd.Env = append(os.Environ(), "DIST="+dist, "VERSION="+version)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", releaseScript, err, out)
	}

	sums := map[string]string{}
	f, err := os.Open(filepath.Join(dist, "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		sum, name, ok := strings.Cut(sc.Text(), "  ")
		if !ok {
			t.Fatalf("SHA256SUMS line %q", sc.Text())
		}
		sums[name] = sum
	}
	f.Close()
	for name, sum := range sums {
		b, err := os.ReadFile(filepath.Join(dist, name))
		if err != nil {
			t.Fatal(err)
		}
		if h := sha256.Sum256(b); hex.EncodeToString(h[:]) != sum {
			t.Errorf("SHA256SUMS: %s does not match", name)
		}
	}

	for _, target := range release.Targets {
		goos, goarch, _ := strings.Cut(target, "/")
		name := "lettrage_" + version + "_" + goos + "_" + goarch
		if goos == "windows" {
			name += ".exe"
		}
		path := filepath.Join(dist, name)
		if _, ok := sums[name]; !ok {
			t.Errorf("%s is not in SHA256SUMS", name)
		}
		switch goos {
		case "linux":
			e, err := elf.Open(path)
			if err != nil {
				t.Errorf("%s: %v", name, err)
				continue
			}
			want := map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}[goarch]
			for _, p := range e.Progs {
				if p.Type == elf.PT_INTERP {
					t.Errorf("%s: dynamically linked", name)
				}
			}
			if e.Machine != want {
				t.Errorf("%s: machine %v, want %v", name, e.Machine, want)
			}
			e.Close()
		case "darwin":
			m, err := macho.Open(path)
			if err != nil {
				t.Errorf("%s: %v", name, err)
				continue
			}
			want := map[string]macho.Cpu{"amd64": macho.CpuAmd64, "arm64": macho.CpuArm64}[goarch]
			if m.Cpu != want {
				t.Errorf("%s: cpu %v, want %v", name, m.Cpu, want)
			}
			m.Close()
		case "windows":
			p, err := pe.Open(path)
			if err != nil {
				t.Errorf("%s: %v", name, err)
				continue
			}
			if p.Machine != pe.IMAGE_FILE_MACHINE_AMD64 {
				t.Errorf("%s: machine %#x", name, p.Machine)
			}
			p.Close()
		}
	}

	if lic, err := os.ReadFile(filepath.Join(dist, "licenses.txt")); err != nil || strings.Contains(string(lic), "NOT COMPATIBLE") ||
		!strings.Contains(string(lic), "github.com/go-co-op/gocron/v2") {
		t.Errorf("licenses.txt: %v\n%s", err, lic)
	}
	var sbom struct {
		BOMFormat  string
		Metadata   struct{ Component struct{ Version string } }
		Components []struct {
			Name     string
			Licenses []any
		}
	}
	b, err := os.ReadFile(filepath.Join(dist, "lettrage_"+version+".cdx.json"))
	if err == nil {
		err = json.Unmarshal(b, &sbom)
	}
	if err != nil || sbom.BOMFormat != "CycloneDX" || sbom.Metadata.Component.Version != version || len(sbom.Components) < 20 {
		t.Errorf("SBOM: %v, %+v", err, sbom.Metadata)
	}

	// The binary of this machine: version and revision, and the crash
	// tests' failpoints are not in it.
	host := filepath.Join(dist, "lettrage_"+version+"_"+runtime.GOOS+"_"+runtime.GOARCH)
	if _, err := os.Stat(host); err != nil {
		t.Skipf("no release target for %s/%s", runtime.GOOS, runtime.GOARCH)
	}
	out := run(t, ".", host, "version")
	if !regexp.MustCompile(`^lettrage ` + regexp.QuoteMeta(version) + ` \([0-9a-f]{12}(-dirty)?\) go`).MatchString(out) {
		t.Errorf("lettrage version = %q, want the version and the VCS revision", out)
	}
	cfg := copyExample(t)
	c := exec.Command(host, "once", "-c", cfg)
	c.Env = append(os.Environ(), "LETTRAGE_FAILPOINT=after-commit")
	if out, err := c.CombinedOutput(); err != nil {
		t.Errorf("the release binary with LETTRAGE_FAILPOINT=after-commit: %v (a failpoint in a production build?)\n%s", err, out)
	}
}

// copyExample copies the example configuration and data to a temporary
// folder and returns the configuration's path there.
func copyExample(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join(repoRoot, "deploy", "examples")
	err := filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if info.IsDir() {
			if rel == "out" {
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(dir, rel), 0o755)
		}
		in, err := os.Open(p)
		if err != nil {
			return err
		}
		defer in.Close()
		out, err := os.Create(filepath.Join(dir, rel))
		if err != nil {
			return err
		}
		defer out.Close()
		_, err = io.Copy(out, in)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, "local.yaml")
}

// TestImageReference: one container image reference everywhere — the
// Makefile builds it, the Dockerfile documents it, the Helm chart pulls it
// at the chart's appVersion, which is the release in CHANGELOG.md, and the
// docs name it.
func TestImageReference(t *testing.T) {
	const image = "ghcr.io/lettrage/lettrage"
	if !strings.Contains(string(readFile(t, "Makefile")), "IMAGE ?= "+image+"\n") {
		t.Errorf("Makefile: IMAGE is not %s", image)
	}
	values := string(readFile(t, "deploy/helm/lettrage/values.yaml"))
	if !strings.Contains(values, "repository: "+image+"\n") {
		t.Errorf("values.yaml: image.repository is not %s", image)
	}
	chart := string(readFile(t, "deploy/helm/lettrage/Chart.yaml"))
	app := regexp.MustCompile(`(?m)^appVersion: "?([^"\n]+)"?$`).FindStringSubmatch(chart)
	latest := regexp.MustCompile(`(?m)^## ([0-9]+\.[0-9]+\.[0-9]+)`).FindStringSubmatch(string(readFile(t, "CHANGELOG.md")))
	if app == nil || latest == nil || app[1] != latest[1] {
		t.Errorf("Chart.yaml appVersion %v, CHANGELOG.md's latest release %v: want the same (the image tag)", app, latest)
	}
	for _, doc := range []string{"docs/DEPLOY.md", "deploy/docker/Dockerfile", "README.md"} {
		if !strings.Contains(string(readFile(t, doc)), image) {
			t.Errorf("%s does not name the image %s", doc, image)
		}
	}
	if strings.Contains(string(readFile(t, "docs/DEPLOY.md")), "-t lettrage ") {
		t.Error("docs/DEPLOY.md builds an image named lettrage, not " + image)
	}
}
