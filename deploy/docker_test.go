package deploy

import (
	"bufio"
	"bytes"
	"debug/elf"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/lettrage/lettrage/config"
	_ "github.com/lettrage/lettrage/connectors/all"
	"github.com/lettrage/lettrage/connectors/ledger/file"
	"github.com/lettrage/lettrage/connectors/source/local"
)

const (
	dockerfile    = "deploy/docker/Dockerfile"
	dockerConfig  = "deploy/docker/lettrage.yaml"
	dockerIgnore  = "deploy/docker/Dockerfile.dockerignore"
	imageStateDir = "/var/lib/lettrage"
	imageConfig   = "/etc/lettrage/lettrage.yaml"
)

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct {
	Cmd  string // upper case
	Args string
	Line int
}

func parseDockerfile(t *testing.T, data []byte) []instruction {
	t.Helper()
	var out []instruction
	var cur strings.Builder
	start := 0
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if cur.Len() == 0 && (line == "" || strings.HasPrefix(line, "#")) {
			continue
		}
		if cur.Len() == 0 {
			start = n
		}
		if s, ok := strings.CutSuffix(line, "\\"); ok {
			cur.WriteString(s + " ")
			continue
		}
		cur.WriteString(line)
		cmd, args, _ := strings.Cut(cur.String(), " ")
		out = append(out, instruction{Cmd: strings.ToUpper(cmd), Args: strings.TrimSpace(args), Line: start})
		cur.Reset()
	}
	if cur.Len() > 0 {
		t.Fatalf("%s: line %d: continuation at end of file", dockerfile, start)
	}
	return out
}

// TestDockerfile checks what can be checked without a Docker engine: the
// stages, the build flags, the paths the Dockerfile copies and builds,
// the non-root user, the state volume and the port, and the image's
// default configuration.
func TestDockerfile(t *testing.T) {
	ins := parseDockerfile(t, readFile(t, dockerfile))
	var froms []string
	var sawBuild, sawUser, sawVolume, sawExpose bool
	args := map[string]string{}
	var cmd, entrypoint string
	for _, in := range ins {
		where := dockerfile + ":" + strconv.Itoa(in.Line)
		switch in.Cmd {
		case "ARG":
			k, v, _ := strings.Cut(in.Args, "=")
			args[k] = v
		case "FROM":
			froms = append(froms, in.Args)
		case "RUN":
			if strings.Contains(in.Args, "go build") {
				sawBuild = true
				for _, want := range []string{"CGO_ENABLED=0", "-trimpath", "-s -w", "-X main.version=${VERSION}", "./cmd/lettrage"} {
					if !strings.Contains(in.Args, want) {
						t.Errorf("%s: go build without %q", where, want)
					}
				}
			}
		case "COPY":
			fields := strings.Fields(in.Args)
			var srcs []string
			from := false
			for _, f := range fields[:len(fields)-1] {
				if strings.HasPrefix(f, "--from=") {
					from = true
				}
				if !strings.HasPrefix(f, "--") {
					srcs = append(srcs, f)
				}
			}
			if from {
				continue
			}
			for _, s := range srcs {
				if _, err := os.Stat(filepath.Join(repoRoot, s)); err != nil {
					t.Errorf("%s: COPY source %s does not exist in the repository", where, s)
				}
			}
		case "USER":
			sawUser = true
			if u, _, _ := strings.Cut(in.Args, ":"); u == "0" || u == "root" {
				t.Errorf("%s: USER %s: the image must not run as root", where, in.Args)
			}
		case "VOLUME":
			sawVolume = strings.Contains(in.Args, `"`+imageStateDir+`"`)
		case "EXPOSE":
			sawExpose = strings.Fields(in.Args)[0] == "9464"
		case "CMD":
			cmd = in.Args
		case "ENTRYPOINT":
			entrypoint = in.Args
		}
	}
	if len(froms) != 2 {
		t.Fatalf("FROM lines %v: want a build stage and a runtime stage", froms)
	}
	goMod := string(readFile(t, "go.mod"))
	goLine := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindStringSubmatch(goMod)
	if !strings.HasPrefix(froms[0], "golang:${GO_VERSION}") || goLine == nil || args["GO_VERSION"] != goLine[1] {
		t.Errorf("build stage %q with GO_VERSION=%q, want golang:${GO_VERSION} with the go.mod version %v", froms[0], args["GO_VERSION"], goLine)
	}
	if rt := froms[1]; rt != "gcr.io/distroless/static-debian12:nonroot" && !strings.HasPrefix(rt, "scratch") {
		t.Errorf("runtime stage %q, want distroless static nonroot or scratch", rt)
	}
	if !sawBuild || !sawUser || !sawVolume || !sawExpose {
		t.Errorf("go build %v, USER %v, VOLUME %s %v, EXPOSE 9464 %v: all required", sawBuild, sawUser, imageStateDir, sawVolume, sawExpose)
	}
	if entrypoint != `["/usr/local/bin/lettrage"]` || cmd != `["run", "-c", "`+imageConfig+`"]` {
		t.Errorf("ENTRYPOINT %s CMD %s, want the binary running %s", entrypoint, cmd, imageConfig)
	}
	if !hasMainVersion(t) {
		t.Errorf("-X main.version needs a string variable version in package main of cmd/lettrage")
	}

	// The image's default configuration is valid, listens beyond the
	// container's loopback and writes only under the state volume.
	cfg, err := config.Load(filepath.Join(repoRoot, dockerConfig))
	if err != nil {
		t.Fatalf("the image's configuration: %v", err)
	}
	if !strings.HasPrefix(cfg.HTTP.Listen, "0.0.0.0:9464") && !strings.HasPrefix(cfg.HTTP.Listen, ":9464") {
		t.Errorf("http.listen %q: unreachable from outside the container", cfg.HTTP.Listen)
	}
	writable := []string{cfg.State.SQLite.Path}
	for _, j := range cfg.Jobs {
		writable = append(writable, j.Reports.Dir)
		if fc, ok := j.Ledger.Settings().(*file.Config); ok {
			writable = append(writable, fc.Journal)
		}
		if lc, ok := j.Source.Settings().(*local.Config); ok {
			writable = append(writable, lc.ArchiveDir, lc.QuarantineDir)
		}
	}
	for _, p := range writable {
		if p != "" && !strings.HasPrefix(path.Clean(p)+"/", imageStateDir+"/") {
			t.Errorf("%s: %s is written but outside the volume %s (the root filesystem is read-only)", dockerConfig, p, imageStateDir)
		}
	}

	// Embedded files must be in the build context.
	ignore := string(readFile(t, dockerIgnore))
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if .Module}}{{if .Module.Main}}{{.Dir}}|{{join .EmbedFiles \",\"}}{{end}}{{end}}", "../cmd/lettrage").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		dir, files, _ := strings.Cut(line, "|")
		for _, f := range strings.Split(files, ",") {
			if f == "" {
				continue
			}
			rel, _ := filepath.Rel(mustAbs(t, repoRoot), filepath.Join(dir, f))
			if !strings.Contains(ignore, "!"+filepath.ToSlash(rel)) {
				t.Errorf("%s embeds %s, which %s keeps out of the build context", dir, rel, dockerIgnore)
			}
		}
	}
}

func mustAbs(t *testing.T, p string) string {
	t.Helper()
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// hasMainVersion reports whether cmd/lettrage declares `var version` as a
// string, which -ldflags "-X main.version=…" sets.
func hasMainVersion(t *testing.T) bool {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(repoRoot, "cmd", "lettrage", "*.go"))
	if err != nil || len(names) == 0 {
		t.Fatalf("listing cmd/lettrage: %v (%d files)", err, len(names))
	}
	fset := token.NewFileSet()
	found := false
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatalf("parsing cmd/lettrage: %v", err)
		}
		for _, d := range f.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok || gd.Tok != token.VAR {
				continue
			}
			for _, s := range gd.Specs {
				vs := s.(*ast.ValueSpec)
				for i, n := range vs.Names {
					if n.Name != "version" {
						continue
					}
					if id, ok := vs.Type.(*ast.Ident); ok && id.Name == "string" {
						found = true
					}
					if i < len(vs.Values) {
						if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
							found = true
						}
					}
				}
			}
		}
	}
	return found
}

// TestStaticBinary builds the daemon as the image does (CGO_ENABLED=0,
// stripped, version stamped) and checks that the result is a static ELF
// binary — it must run on distroless/static or scratch, which have no C
// library — and reports the stamped version.
func TestStaticBinary(t *testing.T) {
	t.Parallel()
	if runtime.GOOS != "linux" {
		t.Skipf("the image is linux; this is %s", runtime.GOOS)
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("finding the go command: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "lettrage")
	cmd := exec.Command(goBin, "build", "-ldflags", "-s -w -X main.version=v0.0.0-deploytest", "-o", bin, "./cmd/lettrage")
	cmd.Dir = repoRoot
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build with CGO_ENABLED=0: %v\n%s", err, out)
	}
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatalf("reading the binary: %v", err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Errorf("program header %v: the binary is dynamically linked", p.Type)
		}
	}
	if s := f.Section(".dynamic"); s != nil {
		t.Errorf("the binary has a .dynamic section")
	}
	if libs, err := f.ImportedLibraries(); err == nil && len(libs) > 0 {
		t.Errorf("the binary needs shared libraries %v", libs)
	}
	if f.Section(".symtab") != nil {
		t.Errorf("the binary is not stripped (-s -w)")
	}
	if out := run(t, ".", bin, "version"); !strings.Contains(out, "v0.0.0-deploytest") {
		t.Errorf("lettrage version = %q, want the version stamped with -X main.version", out)
	}
}
