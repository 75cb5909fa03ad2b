package testenv

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// The Odoo 17 test server.
//
// Odoo is a test-time dependency, like the Debian packages: the lettrage
// binary never needs it. The tests take Odoo 17.0 Community, trimmed to what
// `account` and `l10n_fr` need, from an archive (OdooArchiveEnv, default
// OdooArchiveDefault relative to the repository root), check it against
// Odoo17SHA256, unpack it once into the user's cache folder
// (~/.cache/lettrage/odoo/src-<hash>), and build once, in the cache too, a
// PostgreSQL cluster holding a template database with `account,l10n_fr`
// installed, a user "lettrage" with its API key, an API key for admin (no
// passwords: see OdooAdminPassword) and a bank journal with an IBAN (about
// 25 s on 2 cores, more on a busy machine). Every test binary then copies
// that cluster, starts it and Odoo on 127.0.0.1 (NewOdooWith: its threaded
// or its prefork server, databases loaded at start), and each NewDatabase
// is one of those, or `CREATE DATABASE … TEMPLATE` plus a copy of the
// template's filestore (under a second, plus the first call's load).
//
// Odoo refuses the PostgreSQL superuser "postgres": it connects as the role
// "odoo" (CREATEDB, not superuser). PostgreSQL refuses root: when the tests
// run as root the cluster runs as the "postgres" system user. Nothing
// listens on anything but 127.0.0.1 (the HTTP port, and the prefork
// server's gevent port), and nothing leaves the machine: publisher_warranty_url and
// the SMTP server are closed local ports, and the process's HTTP(S) proxy
// is a closed local port too, so any outside call fails at once.

// OdooArchiveEnv names the setting holding the archive's path; relative
// paths are taken from the repository root.
const OdooArchiveEnv = "LETTRAGE_ODOO_ARCHIVE"

// OdooArchiveDefault is the archive's path when OdooArchiveEnv is unset,
// relative to the repository root: the folder shared beside every clone.
const OdooArchiveDefault = "../shared/odoo17/odoo-17.0-trimmed.tar.gz"

// Odoo17SHA256 is the SHA-256 of odoo-17.0-trimmed.tar.gz (its SOURCES.md:
// Odoo 17.0 nightly 17.0-20240709, LGPL-3, files removed only).
const Odoo17SHA256 = "62390e856f948c246dad66e799000077d718ba6942f11b93d7a3274ae5b4c36a"

// OdooPythonEnv names the Python interpreter that runs Odoo (default
// /usr/bin/python3, Debian's, which has the packages of
// scripts/odoo17-debian-packages.txt).
const OdooPythonEnv = "LETTRAGE_ODOO_PYTHON"

// OdooModules are installed in the template database.
const OdooModules = "account,l10n_fr"

// odooRecipe changes whenever the template's content does (user, groups,
// journal): a new value builds a new template.
const odooRecipe = "4"

const (
	odooTemplateDB = "lettrage_template"
	odooDBRole     = "odoo"
	// OdooAdminPassword is the password of Odoo's "admin" user while the
	// template is built (Odoo's default without demo data). The test
	// databases keep no password for admin nor OdooUser: both log in with
	// an API key (Odoo.adminKey, Odoo.APIKey). Odoo checks a password
	// before an API key, with 600,000 rounds of PBKDF2 (about 1 s of CPU on
	// a busy machine), in every worker process, again after every change
	// of rights or users (its caches are cleared); with no password that
	// check fails at once, and the API key's own check (6,000 rounds) is
	// all that is paid. The connector's calls are the same either way.
	OdooAdminPassword = "admin"
	// OdooUser is the user Lettrage logs in as; its API key is
	// OdooDB.APIKey.
	OdooUser = "lettrage"
	// odooUserPassword is only used to create the API key.
	odooUserPassword = "lettrage-test-password"
	// OdooBankJournal is the code of the bank journal (Odoo's "Bank"),
	// whose bank account is OdooBankIBAN.
	OdooBankJournal = "BNK1"
	OdooBankIBAN    = "FR7630003012340005001234509"
)

// OdooUserGroups are the groups of OdooUser in the template, by XML id:
// what docs/CONFIG.md says the Odoo user needs for both modes.
var OdooUserGroups = []string{"base.group_user", "account.group_account_invoice", "account.group_account_user"}

// Odoo is an Odoo 17 server on 127.0.0.1 with its own PostgreSQL cluster.
// Each NewDatabase is a fresh copy of the template.
type Odoo struct {
	URL     string // http://127.0.0.1:port
	Dir     string
	Version string // server_version, e.g. "17.0-20240709"
	// APIKey is OdooUser's API key, the same in every database.
	APIKey string
	// adminKey is admin's API key (empty while the template is built:
	// admin's password is used then).
	adminKey string

	src      string // unpacked source (holds odoo-bin)
	python   string
	template string // cache folder of the template cluster
	pg       *Postgres
	proc     *Process
	seq      atomic.Int64
	hc       *http.Client

	mu        sync.Mutex
	preloaded []string // databases loaded at start, not handed out yet
}

// OdooOptions says how NewOdooWith runs the server.
type OdooOptions struct {
	// Workers is the number of Odoo's HTTP worker processes (its prefork
	// server, as in production): calls to different databases are served
	// side by side, on every core. 0 runs its threaded server, one
	// process, which serves one call at a time for lack of cores (Python's
	// lock).
	Workers int
	// Preload is how many databases are copied from the template before
	// Odoo starts and loaded by it as it starts (before it forks its
	// workers, which inherit them). NewDatabase hands them out first: a
	// database loaded that way costs nothing on its first call, where a
	// new one costs each worker 3–8 s to load.
	Preload int
}

// OdooArchive returns the archive's absolute path: OdooArchiveEnv, else
// OdooArchiveDefault, relative paths taken from the repository root. A
// missing archive is a *NotInstalledError (the tests skip, or fail in CI).
func OdooArchive() (string, error) {
	p := os.Getenv(OdooArchiveEnv)
	if p == "" {
		p = OdooArchiveDefault
	}
	if !filepath.IsAbs(p) {
		root, err := repoRoot()
		if err != nil {
			return "", err
		}
		p = filepath.Join(root, p)
	}
	if _, err := os.Stat(p); err != nil {
		return "", &NotInstalledError{Program: "Odoo 17.0 (" + OdooArchiveEnv + ")", Err: fmt.Errorf("%w; put odoo-17.0-trimmed.tar.gz "+
			"there or point %s at it (see README, Tests)", err, OdooArchiveEnv)}
	}
	return p, nil
}

// repoRoot is the folder holding go.mod, above the working directory.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("finding the repository root: %w", err)
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("finding the repository root: no go.mod above %s", dir)
		}
	}
}

// odooPythonModules are imported to check Odoo's dependencies before
// starting it (the Python names of the Debian packages).
var odooPythonModules = []string{"babel", "dateutil", "decorator", "docutils", "gevent", "greenlet", "idna", "jinja2",
	"sass", "lxml", "markupsafe", "num2words", "ofxparse", "passlib", "PIL", "polib", "psutil", "psycopg2", "pydot",
	"OpenSSL", "PyPDF2", "qrcode", "reportlab", "requests", "rjsmin", "serial", "stdnum", "pytz", "urllib3", "usb",
	"vobject", "werkzeug", "xlrd", "xlsxwriter", "xlwt", "zeep", "asn1crypto", "cbor2", "chardet", "geoip2", "ldap"}

// OdooPython returns the interpreter that runs Odoo, after checking it can
// import Odoo's dependencies.
func OdooPython() (string, error) {
	py := os.Getenv(OdooPythonEnv)
	if py == "" {
		py = "/usr/bin/python3"
	}
	out, err := exec.Command(py, "-c", "import "+strings.Join(odooPythonModules, ", ")).CombinedOutput()
	if err != nil {
		return "", &NotInstalledError{Program: "Odoo's Python packages (scripts/odoo17-debian-packages.txt)",
			Err: fmt.Errorf("%s: %w: %s", py, err, tail(out))}
	}
	return py, nil
}

// lettrageCache is ~/.cache/lettrage (or the OS's equivalent).
func lettrageCache() string {
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	return filepath.Join(cache, "lettrage")
}

// withCacheLock runs fn holding an exclusive lock on the Odoo cache folder,
// so that test binaries running at once unpack and build once.
func withCacheLock(dir string, fn func() error) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", dir, err)
	}
	f, err := os.OpenFile(filepath.Join(dir, ".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return fmt.Errorf("opening the cache lock: %w", err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		return fmt.Errorf("locking %s: %w", dir, err)
	}
	// closing the file releases the lock too: an error here changes nothing
	defer func() { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN) }()
	return fn()
}

// odooSource checks the archive and returns the folder it is unpacked in
// (holding odoo-bin), unpacking it on first use.
func odooSource() (string, error) {
	archive, err := OdooArchive()
	if err != nil {
		return "", err
	}
	cache := filepath.Join(lettrageCache(), "odoo")
	dst := filepath.Join(cache, "src-"+Odoo17SHA256[:16])
	if _, err := os.Stat(filepath.Join(dst, "odoo-bin")); err == nil {
		return dst, nil
	}
	err = withCacheLock(cache, func() error {
		if _, err := os.Stat(filepath.Join(dst, "odoo-bin")); err == nil {
			return nil
		}
		sum, err := fileSHA256(archive)
		if err != nil {
			return err
		}
		if sum != Odoo17SHA256 {
			return fmt.Errorf("checking %s: SHA-256 %s, want %s (internal/testenv/odoo.go)", archive, sum, Odoo17SHA256)
		}
		tmp := dst + ".tmp"
		_ = os.RemoveAll(tmp)
		if err := untarGz(archive, tmp); err != nil {
			return fmt.Errorf("unpacking %s: %w", archive, err)
		}
		// odoo-bin is at the top of the archive or of its one folder
		// (odoo-trim/ in the shared archive).
		root := tmp
		if entries, err := os.ReadDir(tmp); err == nil && len(entries) == 1 && entries[0].IsDir() {
			root = filepath.Join(tmp, entries[0].Name())
		}
		if _, err := os.Stat(filepath.Join(root, "odoo-bin")); err != nil {
			return fmt.Errorf("unpacking %s: no odoo-bin at its top: %w", archive, err)
		}
		if err := os.Rename(root, dst); err != nil {
			return fmt.Errorf("publishing the Odoo source: %w", err)
		}
		return os.RemoveAll(tmp)
	})
	if err != nil {
		return "", err
	}
	return dst, nil
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("hashing %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// untarGz unpacks regular files and folders of a .tar.gz under dst,
// refusing paths that leave it.
func untarGz(archive, dst string) error {
	f, err := os.Open(archive)
	if err != nil {
		return err
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return err
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		name := filepath.Clean(h.Name)
		if filepath.IsAbs(name) || name == ".." || strings.HasPrefix(name, "../") {
			return fmt.Errorf("unsafe path %q in archive", h.Name)
		}
		p := filepath.Join(dst, name)
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(p, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return err
			}
			out, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, os.FileMode(h.Mode)&0o755|0o644)
			if err != nil {
				return err
			}
			if _, err := io.Copy(out, tr); err != nil {
				out.Close()
				return err
			}
			if err := out.Close(); err != nil {
				return err
			}
		}
	}
}

// clusterOwner is the system user a PostgreSQL cluster runs as: nil (the
// current user) unless running as root, which the server refuses; then
// "postgres".
func clusterOwner() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, &NotInstalledError{Program: "postgres (system user)", Err: err}
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// chownTree hands a folder tree to cred's user (nothing when cred is nil),
// and lets that user through the folder above (0711: enter, not list).
func chownTree(root string, cred *syscall.Credential) error {
	if cred == nil {
		return nil
	}
	if err := os.Chmod(filepath.Dir(root), 0o711); err != nil {
		return err
	}
	return filepath.Walk(root, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, int(cred.Uid), int(cred.Gid))
	})
}

// copyTree copies a folder tree of regular files and folders, keeping
// permission bits.
func copyTree(src, dst string) error {
	return filepath.Walk(src, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		switch {
		case fi.IsDir():
			return os.MkdirAll(target, fi.Mode().Perm()|0o700)
		case fi.Mode().IsRegular():
			in, err := os.Open(p)
			if err != nil {
				return err
			}
			defer in.Close()
			out, err := os.OpenFile(target, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, fi.Mode().Perm())
			if err != nil {
				return err
			}
			if _, err := io.Copy(out, in); err != nil {
				out.Close()
				return err
			}
			return out.Close()
		}
		return nil // sockets, pid files' links: not part of a stopped cluster
	})
}

// startCluster starts PostgreSQL on the cluster folder data (owned by
// cred's user), its socket and log in dir.
func startCluster(dir, data string, cred *syscall.Credential) (*Postgres, error) {
	bin, err := PostgresBinDir()
	if err != nil {
		return nil, &NotInstalledError{Program: "postgres", Err: err}
	}
	if err := chownTree(dir, cred); err != nil {
		return nil, fmt.Errorf("handing %s to postgres: %w", dir, err)
	}
	pg := &Postgres{Dir: dir, bin: bin}
	if err := pg.start(data, cred); err != nil {
		return nil, err
	}
	return pg, nil
}

// odooConfig writes Odoo's configuration (odoo.conf.example of the shared
// folder, filled in).
func odooConfig(path, src, dataDir string, pgPort, httpPort, workers int) error {
	closed, err := FreePort() // nothing listens there: outside calls fail at once
	if err != nil {
		return err
	}
	gevent, err := FreePort() // the prefork server's websocket process, on 127.0.0.1 too
	if err != nil {
		return err
	}
	conf := fmt.Sprintf(`[options]
addons_path = %s
data_dir = %s
db_host = 127.0.0.1
db_port = %d
db_user = %s
db_password = False
admin_passwd = test-admin
http_interface = 127.0.0.1
http_port = %d
gevent_port = %d
workers = %d
max_cron_threads = 0
limit_time_cpu = 600
limit_time_real = 1200
list_db = True
dbfilter = ^(?!%s$).*$
without_demo = all
smtp_server = 127.0.0.1
smtp_port = %d
publisher_warranty_url = http://127.0.0.1:%d/publisher-warranty/
log_level = warn
`, addonsPath(src), dataDir, pgPort, odooDBRole, httpPort, gevent, workers, odooTemplateDB, closed, closed)
	return os.WriteFile(path, []byte(conf), 0o600)
}

// addonsPath is odoo/addons, and addons/ beside it in a full source tree
// (the trimmed archive keeps every module under odoo/addons).
func addonsPath(src string) string {
	p := filepath.Join(src, "odoo", "addons")
	if st, err := os.Stat(filepath.Join(src, "addons")); err == nil && st.IsDir() {
		p = filepath.Join(src, "addons") + "," + p
	}
	return p
}

// odooEnv is the environment of the Odoo process: every HTTP(S) request
// to an outside host goes to a closed local port.
func odooEnv() ([]string, error) {
	closed, err := FreePort()
	if err != nil {
		return nil, err
	}
	proxy := fmt.Sprintf("http://127.0.0.1:%d", closed)
	env := []string{"HTTP_PROXY=" + proxy, "HTTPS_PROXY=" + proxy, "http_proxy=" + proxy, "https_proxy=" + proxy,
		"NO_PROXY=127.0.0.1,localhost", "no_proxy=127.0.0.1,localhost", "PGAPPNAME=odoo-test"}
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch strings.ToUpper(k) {
		case "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "ALL_PROXY", "PGUSER", "PGPASSWORD", "PGHOST", "PGPORT", "PGDATABASE":
			continue
		}
		env = append(env, kv)
	}
	return env, nil
}

// odooTemplate returns the cache folder holding the template cluster
// (pgdata/, filestore/, apikey), building it on first use.
func odooTemplate(src, python string) (string, error) {
	bin, err := PostgresBinDir()
	if err != nil {
		return "", &NotInstalledError{Program: "postgres", Err: err}
	}
	pgver, _ := exec.Command(filepath.Join(bin, "postgres"), "--version").Output()
	sum := sha256.Sum256([]byte(strings.Join([]string{Odoo17SHA256, OdooModules, bin, string(pgver), odooRecipe,
		strings.Join(OdooUserGroups, ",")}, "|")))
	cache := filepath.Join(lettrageCache(), "odoo")
	dst := filepath.Join(cache, fmt.Sprintf("template-%x", sum[:6]))
	if _, err := os.Stat(filepath.Join(dst, "ok")); err == nil {
		return dst, nil
	}
	err = withCacheLock(cache, func() error {
		if _, err := os.Stat(filepath.Join(dst, "ok")); err == nil {
			return nil
		}
		return buildOdooTemplate(src, python, dst)
	})
	if err != nil {
		return "", err
	}
	return dst, nil
}

// buildOdooTemplate installs the modules into a new cluster, prepares the
// user and the journal over JSON-RPC, stops everything and publishes the
// stopped cluster in dst.
func buildOdooTemplate(src, python, dst string) (err error) {
	t0 := time.Now()
	fmt.Fprintf(os.Stderr, "testenv: building the Odoo 17 template database once (%s; about 25 s on 2 cores) into %s\n", OdooModules, dst)
	work, err := os.MkdirTemp("", "lettrage-odoo-template-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	cred, err := clusterOwner()
	if err != nil {
		return err
	}
	bin, err := PostgresBinDir()
	if err != nil {
		return &NotInstalledError{Program: "postgres", Err: err}
	}
	pgDir := filepath.Join(work, "pg")
	data := filepath.Join(pgDir, "data")
	if err := os.MkdirAll(pgDir, 0o700); err != nil {
		return err
	}
	if err := chownTree(pgDir, cred); err != nil {
		return err
	}
	initdb := exec.Command(filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres", "-A", "trust",
		"-E", "UTF8", "--locale=C", "--no-sync")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if out, err := initdb.CombinedOutput(); err != nil {
		return fmt.Errorf("running initdb: %w\n%s", err, out)
	}
	pg, err := startCluster(pgDir, data, cred)
	if err != nil {
		return err
	}
	defer pg.Stop()
	if _, err := pg.psql("postgres", "CREATE ROLE "+odooDBRole+" LOGIN CREATEDB"); err != nil {
		return err
	}
	dataDir := filepath.Join(work, "data")
	conf := filepath.Join(work, "odoo.conf")
	httpPort, err := FreePort()
	if err != nil {
		return err
	}
	if err := odooConfig(conf, src, dataDir, pg.Port, httpPort, 0); err != nil {
		return err
	}
	env, err := odooEnv()
	if err != nil {
		return err
	}
	install := exec.Command(python, filepath.Join(src, "odoo-bin"), "-c", conf, "-d", odooTemplateDB, "-i", OdooModules,
		"--without-demo=all", "--stop-after-init", "--log-level=warn")
	install.Env = env
	if out, err := install.CombinedOutput(); err != nil {
		return fmt.Errorf("installing %s into the Odoo template: %w\n%s", OdooModules, err, tail(out))
	}
	installed := time.Since(t0)
	// Serve the template (the only time it is served) to prepare it over
	// JSON-RPC, as an administrator would.
	o := &Odoo{URL: fmt.Sprintf("http://127.0.0.1:%d", httpPort), Dir: work, src: src, python: python, pg: pg,
		hc: &http.Client{Timeout: 120 * time.Second}}
	if err := o.startServer(conf, env, "-d", odooTemplateDB, "--db-filter", "^"+odooTemplateDB+"$"); err != nil {
		return err
	}
	defer o.stopServer()
	db := &OdooDB{Odoo: o, Name: odooTemplateDB}
	if db.AdminUID, err = db.login("admin", OdooAdminPassword); err != nil {
		return fmt.Errorf("logging in to the Odoo template: %w", err)
	}
	key, err := db.prepareTemplate()
	if err != nil {
		return fmt.Errorf("preparing the Odoo template: %w\n%s", err, o.LogTail())
	}
	adminKey, err := db.makeAPIKey("admin", OdooAdminPassword)
	if err != nil {
		return fmt.Errorf("making admin's API key: %w", err)
	}
	o.stopServer()
	// API keys only (OdooAdminPassword says why).
	if _, err := pg.psql(odooTemplateDB, fmt.Sprintf("UPDATE res_users SET password = NULL WHERE login IN ('admin', '%s')", OdooUser)); err != nil {
		return fmt.Errorf("removing the passwords of the Odoo template: %w", err)
	}
	pg.Stop()
	tmp := dst + ".tmp"
	_ = os.RemoveAll(tmp)
	if err := copyTree(data, filepath.Join(tmp, "pgdata")); err != nil {
		return fmt.Errorf("saving the template cluster: %w", err)
	}
	if err := copyTree(filepath.Join(dataDir, "filestore", odooTemplateDB), filepath.Join(tmp, "filestore")); err != nil {
		return fmt.Errorf("saving the template filestore: %w", err)
	}
	if err := os.WriteFile(filepath.Join(tmp, "apikey"), []byte(key), 0o600); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(tmp, "adminkey"), []byte(adminKey), 0o600); err != nil {
		return err
	}
	timing := fmt.Sprintf("install %s: %v; template ready in %v\n", OdooModules, installed.Round(100*time.Millisecond),
		time.Since(t0).Round(100*time.Millisecond))
	if err := os.WriteFile(filepath.Join(tmp, "ok"), []byte(timing), 0o644); err != nil {
		return err
	}
	_ = os.RemoveAll(dst)
	if err := os.Rename(tmp, dst); err != nil {
		return fmt.Errorf("publishing the Odoo template: %w", err)
	}
	fmt.Fprintf(os.Stderr, "testenv: Odoo template built: %s", timing)
	return nil
}

// prepareTemplate creates OdooUser with OdooUserGroups and an API key
// (made as a user makes one: Preferences › Account Security, identity
// check included), and gives the bank journal its IBAN. It returns the key.
func (db *OdooDB) prepareTemplate() (string, error) {
	var groups []int
	for _, x := range OdooUserGroups {
		id, err := db.Ref(x)
		if err != nil {
			return "", err
		}
		groups = append(groups, id)
	}
	var uid int
	if err := db.Call(&uid, "res.users", "create", []any{map[string]any{"name": "Lettrage", "login": OdooUser,
		"password": odooUserPassword, "groups_id": []any{[]any{6, 0, groups}}}}, nil); err != nil {
		return "", fmt.Errorf("creating user %s: %w", OdooUser, err)
	}
	key, err := db.makeAPIKey(OdooUser, odooUserPassword)
	if err != nil {
		return "", err
	}
	var journals []int
	if err := db.Call(&journals, "account.journal", "search", []any{[]any{[]any{"code", "=", OdooBankJournal}}}, nil); err != nil || len(journals) != 1 {
		return "", fmt.Errorf("finding journal %s: %v (%d found)", OdooBankJournal, err, len(journals))
	}
	if err := db.Call(nil, "account.journal", "write", []any{journals, map[string]any{"bank_acc_number": OdooBankIBAN}}, nil); err != nil {
		return "", fmt.Errorf("giving journal %s its IBAN: %w", OdooBankJournal, err)
	}
	return key, nil
}

// makeAPIKey logs in to the web client as login and creates an API key
// the way the Preferences screen does: the description wizard's make_key,
// which asks for the password (res.users.identitycheck) first.
func (db *OdooDB) makeAPIKey(login, password string) (string, error) {
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Timeout: 60 * time.Second, Jar: jar}
	post := func(out any, path string, params map[string]any) error {
		body, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "method": "call", "id": 1, "params": params})
		resp, err := hc.Post(db.URL+path, "application/json", bytes.NewReader(body))
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		return decodeOdoo(resp, path, out)
	}
	if err := post(nil, "/web/session/authenticate", map[string]any{"db": db.Name, "login": login, "password": password}); err != nil {
		return "", fmt.Errorf("opening a web session as %s: %w", login, err)
	}
	callKw := func(out any, model, method string, args ...any) error {
		return post(out, "/web/dataset/call_kw/"+model+"/"+method, map[string]any{"model": model, "method": method,
			"args": args, "kwargs": map[string]any{}})
	}
	var wid int
	if err := callKw(&wid, "res.users.apikeys.description", "create", map[string]any{"name": "lettrage tests"}); err != nil {
		return "", fmt.Errorf("creating the API key description: %w", err)
	}
	var check struct {
		Model string `json:"res_model"`
		ID    int    `json:"res_id"`
	}
	if err := callKw(&check, "res.users.apikeys.description", "make_key", []int{wid}); err != nil {
		return "", fmt.Errorf("making the API key: %w", err)
	}
	if check.Model != "res.users.identitycheck" {
		return "", fmt.Errorf("making the API key: expected the identity check, got %q", check.Model)
	}
	if err := callKw(nil, "res.users.identitycheck", "write", []int{check.ID}, map[string]any{"password": password}); err != nil {
		return "", fmt.Errorf("answering the identity check: %w", err)
	}
	var shown struct {
		Context struct {
			Key string `json:"default_key"`
		} `json:"context"`
	}
	if err := callKw(&shown, "res.users.identitycheck", "run_check", []int{check.ID}); err != nil {
		return "", fmt.Errorf("running the identity check: %w", err)
	}
	if shown.Context.Key == "" {
		return "", errors.New("making the API key: Odoo showed no key")
	}
	return shown.Context.Key, nil
}

// StartOdoo starts a server for one test and stops it when the test ends.
// Packages with several tests share one through NewOdoo in TestMain.
func StartOdoo(t testing.TB) *Odoo {
	t.Helper()
	return startForTest(t, "Odoo 17", "lettrage-odoo-", NewOdoo)
}

// NewOdoo starts PostgreSQL (a copy of the template cluster) and Odoo's
// threaded server in dir; the first call on a machine unpacks the archive
// and builds the template. Call Stop when done.
func NewOdoo(dir string) (*Odoo, error) { return NewOdooWith(dir, OdooOptions{}) }

// NewOdooWith is NewOdoo run as opt says.
func NewOdooWith(dir string, opt OdooOptions) (*Odoo, error) {
	python, err := OdooPython()
	if err != nil {
		return nil, err
	}
	if _, err := PostgresBinDir(); err != nil {
		return nil, &NotInstalledError{Program: "postgres", Err: err}
	}
	src, err := odooSource()
	if err != nil {
		return nil, err
	}
	tmpl, err := odooTemplate(src, python)
	if err != nil {
		return nil, err
	}
	key, err := os.ReadFile(filepath.Join(tmpl, "apikey"))
	if err != nil {
		return nil, fmt.Errorf("reading the template's API key: %w", err)
	}
	adminKey, err := os.ReadFile(filepath.Join(tmpl, "adminkey"))
	if err != nil {
		return nil, fmt.Errorf("reading the template's admin API key: %w", err)
	}
	o := &Odoo{Dir: dir, src: src, python: python, template: tmpl, APIKey: string(key), adminKey: string(adminKey),
		hc: &http.Client{Timeout: 120 * time.Second}}
	cred, err := clusterOwner()
	if err != nil {
		return nil, err
	}
	pgDir := filepath.Join(dir, "pg")
	data := filepath.Join(pgDir, "data")
	if err := copyTree(filepath.Join(tmpl, "pgdata"), data); err != nil {
		return nil, fmt.Errorf("copying the template cluster: %w", err)
	}
	if err := os.Chmod(data, 0o700); err != nil {
		return nil, err
	}
	if o.pg, err = startCluster(pgDir, data, cred); err != nil {
		return nil, err
	}
	httpPort, err := FreePort()
	if err != nil {
		o.Stop()
		return nil, err
	}
	o.URL = fmt.Sprintf("http://127.0.0.1:%d", httpPort)
	conf := filepath.Join(dir, "odoo.conf")
	if err := odooConfig(conf, src, filepath.Join(dir, "data"), o.pg.Port, httpPort, opt.Workers); err != nil {
		o.Stop()
		return nil, err
	}
	env, err := odooEnv()
	if err != nil {
		o.Stop()
		return nil, err
	}
	var args []string
	for i := 0; i < opt.Preload; i++ {
		name, err := o.copyTemplate("lettrage")
		if err != nil {
			o.Stop()
			return nil, err
		}
		o.preloaded = append(o.preloaded, name)
	}
	if len(o.preloaded) > 0 {
		args = append(args, "-d", strings.Join(o.preloaded, ","))
	}
	if err := o.startServer(conf, env, args...); err != nil {
		o.Stop()
		return nil, err
	}
	return o, nil
}

// startServer runs odoo-bin with conf and waits until it answers
// common.version.
func (o *Odoo) startServer(conf string, env []string, args ...string) error {
	logPath := filepath.Join(o.Dir, "odoo.log")
	f, err := os.Create(logPath)
	if err != nil {
		return fmt.Errorf("creating the Odoo log: %w", err)
	}
	cmd := exec.Command(o.python, append([]string{filepath.Join(o.src, "odoo-bin"), "-c", conf}, args...)...)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		f.Close()
		return fmt.Errorf("starting odoo-bin: %w", err)
	}
	o.proc = watch(cmd, f, logPath)
	deadline := time.Now().Add(90 * time.Second)
	for {
		var ver struct {
			Version string `json:"server_version"`
		}
		err := o.rpc(&ver, "common", "version")
		if err == nil {
			o.Version = ver.Version
			return nil
		}
		if time.Now().After(deadline) || o.proc.Cmd.ProcessState != nil {
			o.stopServer()
			return fmt.Errorf("waiting for Odoo: %w\n%s", err, tailString(o.LogTail()))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func tailString(s string) string { return tail([]byte(s)) }

func (o *Odoo) stopServer() {
	if o == nil || o.proc == nil || o.proc.Cmd.Process == nil {
		return
	}
	p := o.proc.Cmd.Process
	_ = p.Signal(syscall.SIGTERM)
	for i := 0; i < 100; i++ {
		if p.Signal(syscall.Signal(0)) != nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	o.proc.Stop()
	o.proc = nil
}

// Stop stops Odoo and its PostgreSQL (by PID); safe to call twice.
func (o *Odoo) Stop() {
	if o == nil {
		return
	}
	o.stopServer()
	o.pg.Stop()
}

// LogTail is the end of Odoo's log.
func (o *Odoo) LogTail() string {
	if o == nil || o.proc == nil {
		return ""
	}
	return o.proc.LogTail()
}

// OdooError is an Odoo JSON-RPC error answer: Name is the Python exception
// class ("odoo.exceptions.UserError").
type OdooError struct {
	Method, Name, Message string
}

func (e *OdooError) Error() string {
	return fmt.Sprintf("odoo %s: %s: %s", e.Method, e.Name, e.Message)
}

func decodeOdoo(resp *http.Response, label string, out any) error {
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("reading %s answer: %w", label, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("calling %s: HTTP %d: %.300s", label, resp.StatusCode, data)
	}
	var env struct {
		Result json.RawMessage `json:"result"`
		Error  *struct {
			Message string `json:"message"`
			Data    struct {
				Name    string `json:"name"`
				Message string `json:"message"`
			} `json:"data"`
		} `json:"error"`
	}
	if err := json.Unmarshal(data, &env); err != nil {
		return fmt.Errorf("decoding %s answer: %w", label, err)
	}
	if env.Error != nil {
		msg := env.Error.Data.Message
		if msg == "" {
			msg = env.Error.Message
		}
		return &OdooError{Method: label, Name: env.Error.Data.Name, Message: msg}
	}
	if out == nil || len(env.Result) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(env.Result))
	dec.UseNumber()
	if err := dec.Decode(out); err != nil {
		return fmt.Errorf("decoding %s result %.200s: %w", label, env.Result, err)
	}
	return nil
}

// rpc calls service.method on /jsonrpc.
func (o *Odoo) rpc(out any, service, method string, args ...any) error {
	if args == nil {
		args = []any{}
	}
	body, err := json.Marshal(map[string]any{"jsonrpc": "2.0", "method": "call", "id": 1,
		"params": map[string]any{"service": service, "method": method, "args": args}})
	if err != nil {
		return err
	}
	resp, err := o.hc.Post(o.URL+"/jsonrpc", "application/json", bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("calling %s.%s: %w", service, method, err)
	}
	defer resp.Body.Close()
	return decodeOdoo(resp, service+"."+method, out)
}

// OdooDB is one test database, a copy of the template.
type OdooDB struct {
	*Odoo
	Name     string
	AdminUID int
	UserUID  int // OdooUser's id
}

// NewDatabase creates a database from the template (CREATE DATABASE …
// TEMPLATE, and a copy of the template's filestore) and logs in to it as
// admin, which loads its registry in the server.
//
// A database preloaded at start (OdooOptions.Preload) is handed out first,
// whatever prefix says.
func (o *Odoo) NewDatabase(prefix string) (*OdooDB, error) {
	o.mu.Lock()
	var name string
	if len(o.preloaded) > 0 {
		name, o.preloaded = o.preloaded[0], o.preloaded[1:]
	}
	o.mu.Unlock()
	if name == "" {
		var err error
		if name, err = o.copyTemplate(prefix); err != nil {
			return nil, err
		}
	}
	db := &OdooDB{Odoo: o, Name: name}
	var err error
	if db.AdminUID, err = db.login("admin", db.adminSecret()); err != nil {
		return nil, fmt.Errorf("logging in to Odoo database %s: %w\n%s", name, err, tailString(o.LogTail()))
	}
	var users []int
	if err := db.Call(&users, "res.users", "search", []any{[]any{[]any{"login", "=", OdooUser}}}, nil); err != nil || len(users) != 1 {
		return nil, fmt.Errorf("finding user %s: %v", OdooUser, err)
	}
	db.UserUID = users[0]
	return db, nil
}

// copyTemplate creates a database from the template and returns its name.
func (o *Odoo) copyTemplate(prefix string) (string, error) {
	name := fmt.Sprintf("%s_%d", sanitizeIdent(prefix), o.seq.Add(1))
	if _, err := o.pg.psql("postgres", fmt.Sprintf("CREATE DATABASE %s TEMPLATE %s OWNER %s", name, odooTemplateDB, odooDBRole)); err != nil {
		return "", fmt.Errorf("copying the Odoo template into %s: %w", name, err)
	}
	if err := copyTree(filepath.Join(o.template, "filestore"), filepath.Join(o.Dir, "data", "filestore", name)); err != nil {
		return "", fmt.Errorf("copying the Odoo filestore into %s: %w", name, err)
	}
	return name, nil
}

// Database is NewDatabase for a test: it fails the test on error.
func (o *Odoo) Database(t testing.TB) *OdooDB {
	t.Helper()
	db, err := o.NewDatabase(t.Name())
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func (db *OdooDB) login(login, password string) (int, error) {
	var uid json.RawMessage
	if err := db.rpc(&uid, "common", "authenticate", db.Name, login, password, map[string]any{}); err != nil {
		return 0, err
	}
	id, err := strconv.Atoi(string(uid))
	if err != nil || id == 0 {
		return 0, fmt.Errorf("logging in to Odoo as %s: refused (%s)", login, uid)
	}
	return id, nil
}

// adminSecret is what admin logs in with: its API key, or its password
// while the template is built.
func (o *Odoo) adminSecret() string {
	if o.adminKey != "" {
		return o.adminKey
	}
	return OdooAdminPassword
}

// SetAdminPassword gives admin a password again (for logging in to the web
// client by hand; the tests do not need one).
func (db *OdooDB) SetAdminPassword(password string) error {
	if err := db.Call(nil, "res.users", "write", []any{[]int{db.AdminUID}, map[string]any{"password": password}}, nil); err != nil {
		return fmt.Errorf("setting admin's password: %w", err)
	}
	return nil
}

// Call runs model.method(*args, **kwargs) as admin (execute_kw) and decodes
// the result into out (nil: discarded).
func (db *OdooDB) Call(out any, model, method string, args []any, kwargs map[string]any) error {
	if args == nil {
		args = []any{}
	}
	if kwargs == nil {
		kwargs = map[string]any{}
	}
	err := db.rpc(out, "object", "execute_kw", db.Name, db.AdminUID, db.adminSecret(), model, method, args, kwargs)
	var oe *OdooError
	if errors.As(err, &oe) {
		oe.Method = model + "." + method
	}
	return err
}

// Ref returns the database id of an XML id ("account.group_account_user").
func (db *OdooDB) Ref(xmlid string) (int, error) {
	module, name, ok := strings.Cut(xmlid, ".")
	if !ok {
		return 0, fmt.Errorf("resolving %q: not module.name", xmlid)
	}
	var rows []struct {
		ResID int `json:"res_id"`
	}
	if err := db.Call(&rows, "ir.model.data", "search_read", []any{[]any{[]any{"module", "=", module}, []any{"name", "=", name}}},
		map[string]any{"fields": []string{"res_id"}}); err != nil {
		return 0, fmt.Errorf("resolving %s: %w", xmlid, err)
	}
	if len(rows) != 1 {
		return 0, fmt.Errorf("resolving %s: %d records", xmlid, len(rows))
	}
	return rows[0].ResID, nil
}

// SQL runs sql on the database itself (psql as the superuser), behind
// Odoo's back: for what no call can do, such as backdating write dates.
func (db *OdooDB) SQL(sql string) (string, error) {
	return db.pg.Exec(db.pg.dsn(db.Name), sql)
}
