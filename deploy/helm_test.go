package deploy

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/lettrage/lettrage/config"
	_ "github.com/lettrage/lettrage/connectors/all"
)

const (
	chartDir = "deploy/helm/lettrage"
	// kubeVersion is passed to helm: a helm built with `go install` reports
	// Kubernetes v1.20 as its default, below the chart's kubeVersion.
	kubeVersion = "1.30.0"
)

// manifest is one rendered Kubernetes object.
type manifest map[string]any

func (m manifest) kind() string { s, _ := m["kind"].(string); return s }

// get walks a path of map keys and list indexes.
func get(v any, path ...any) any {
	if m, ok := v.(manifest); ok {
		v = map[string]any(m)
	}
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[k]
		case int:
			l, ok := v.([]any)
			if !ok || k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

func helmTemplate(t *testing.T, helm string, values string, sets ...string) ([]manifest, string, error) {
	t.Helper()
	args := []string{"template", "lettrage", filepath.Join(repoRoot, chartDir), "--namespace", "finance", "--kube-version", kubeVersion}
	if values != "" {
		f := filepath.Join(t.TempDir(), "values.yaml")
		if err := os.WriteFile(f, []byte(values), 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, "-f", f)
	}
	for _, s := range sets {
		args = append(args, "--set", s)
	}
	out, err := runErr(".", helm, args...)
	if err != nil {
		return nil, out, err
	}
	var docs []manifest
	dec := yaml.NewDecoder(strings.NewReader(out))
	for {
		var m map[string]any // (a named map type would be used for nested maps too)
		err := dec.Decode(&m)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("parsing helm template output: %v\n%s", err, out)
		}
		if m != nil {
			docs = append(docs, manifest(m))
		}
	}
	return docs, out, nil
}

// fullValues turns everything on: ServiceMonitor, PrometheusRule, secrets
// from Secrets (files and env), PostgreSQL state and three replicas.
const fullValues = `
replicaCount: 3
serviceMonitor: {enabled: true}
prometheusRule: {enabled: true}
persistence: {enabled: false}
secrets:
  files:
    - {name: sftp, secretName: lettrage-sftp}
    - {name: postgres, secretName: lettrage-pg}
  env:
    - {name: SFTP_PASSWORD, secretName: lettrage-sftp, key: password}
extraEnv:
  - {name: TZ, value: Europe/Paris}
config:
  log: {level: info, format: json}
  http: {listen: "0.0.0.0:9464"}
  state:
    driver: postgres
    postgres: {dsn_file: /etc/lettrage/secrets/postgres/dsn}
  jobs:
    - name: bank-a
      schedule: "*/15 7-20 * * 1-5"
      source:
        type: sftp
        sftp:
          host: sftp.bank.example
          user: acme
          password: "${SFTP_PASSWORD}"
          known_hosts: /etc/lettrage/secrets/sftp/known_hosts
          dir: /out
      ledger:
        type: file
        file: {open_items: /var/lib/lettrage/open_items.csv, journal: /var/lib/lettrage/out/matches.csv}
      reports: {dir: /var/lib/lettrage/out}
`

// TestHelmChart runs `helm lint` and `helm template` on the chart and
// checks the rendered manifests: probes, a non-root read-only security
// context, state and /tmp volumes, no secret value inline, the
// ServiceMonitor and the PrometheusRule.
func TestHelmChart(t *testing.T) {
	helm := tool(t, "helm")
	t.Setenv("HELM_CACHE_HOME", t.TempDir())
	t.Setenv("HELM_CONFIG_HOME", t.TempDir())
	t.Setenv("HELM_DATA_HOME", t.TempDir())

	out := run(t, ".", helm, "lint", "--strict", "--kube-version", kubeVersion, filepath.Join(repoRoot, chartDir))
	if !strings.Contains(out, "0 chart(s) failed") {
		t.Errorf("helm lint:\n%s", out)
	}
	out = run(t, ".", helm, "lint", "--strict", "--kube-version", kubeVersion, "-f", writeTemp(t, fullValues), filepath.Join(repoRoot, chartDir))
	if !strings.Contains(out, "0 chart(s) failed") {
		t.Errorf("helm lint with every option:\n%s", out)
	}

	t.Run("defaults", func(t *testing.T) {
		docs, raw, err := helmTemplate(t, helm, "")
		if err != nil {
			t.Fatalf("helm template: %v\n%s", err, raw)
		}
		kinds := kindsOf(docs)
		want := []string{"ConfigMap", "Deployment", "PersistentVolumeClaim", "PodDisruptionBudget", "Service", "ServiceAccount"}
		if !reflect.DeepEqual(kinds, want) {
			t.Errorf("kinds %v, want %v", kinds, want)
		}
		dep := checkDeployment(t, docs)
		if got := get(dep, "spec", "strategy", "type"); got != "Recreate" {
			t.Errorf("SQLite state: strategy %v, want Recreate", got)
		}
		if get(dep, "spec", "replicas") != 1 {
			t.Errorf("replicas %v, want 1", get(dep, "spec", "replicas"))
		}
		checkNoInlineSecrets(t, docs, raw)
	})

	t.Run("everything", func(t *testing.T) {
		docs, raw, err := helmTemplate(t, helm, fullValues)
		if err != nil {
			t.Fatalf("helm template: %v\n%s", err, raw)
		}
		kinds := kindsOf(docs)
		want := []string{"ConfigMap", "Deployment", "PodDisruptionBudget", "PrometheusRule", "Service", "ServiceAccount", "ServiceMonitor"}
		if !reflect.DeepEqual(kinds, want) {
			t.Errorf("kinds %v, want %v", kinds, want)
		}
		dep := checkDeployment(t, docs)
		if get(dep, "spec", "replicas") != 3 || get(dep, "spec", "strategy") != nil {
			t.Errorf("PostgreSQL state: replicas %v strategy %v, want 3 and the rolling default", get(dep, "spec", "replicas"), get(dep, "spec", "strategy"))
		}
		pod := get(dep, "spec", "template", "spec")
		if get(pod, "volumes", 1, "emptyDir") == nil {
			t.Errorf("persistence disabled: state volume %v, want an emptyDir", get(pod, "volumes", 1))
		}
		mounts := map[string]bool{}
		for _, m := range get(pod, "containers", 0, "volumeMounts").([]any) {
			mounts[get(m, "mountPath").(string)] = get(m, "readOnly") == true
		}
		for _, p := range []string{"/etc/lettrage/secrets/sftp", "/etc/lettrage/secrets/postgres"} {
			if ro, ok := mounts[p]; !ok || !ro {
				t.Errorf("secret mount %s: present %v read-only %v", p, ok, ro)
			}
		}
		checkNoInlineSecrets(t, docs, raw)

		sm := byKind(t, docs, "ServiceMonitor")
		// Lettrage's own label is lettrage_job: honorLabels would let a
		// target's labels override Prometheus's, which nothing needs.
		if hl := get(sm, "spec", "endpoints", 0, "honorLabels"); hl == true || get(sm, "spec", "endpoints", 0, "path") != "/metrics" {
			t.Errorf("ServiceMonitor endpoint %v: want /metrics without honorLabels", get(sm, "spec", "endpoints", 0))
		}
		svc := byKind(t, docs, "Service")
		jobLabel, _ := get(sm, "spec", "jobLabel").(string)
		if get(svc, "metadata", "labels", jobLabel) != "lettrage" {
			t.Errorf("the ServiceMonitor's jobLabel %q gives the scrape job %v, want \"lettrage\" (alerts.yml uses up{job=\"lettrage\"})", jobLabel, get(svc, "metadata", "labels", jobLabel))
		}
		rule := byKind(t, docs, "PrometheusRule")
		var alerts map[string]any
		if err := yaml.Unmarshal(readFile(t, alertsFile), &alerts); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(get(rule, "spec", "groups"), alerts["groups"]) {
			t.Errorf("the PrometheusRule's groups differ from %s", alertsFile)
		}
	})

	t.Run("refused", func(t *testing.T) {
		tests := []struct {
			name        string
			sets        []string
			errContains string
		}{
			{name: "replicas on sqlite", sets: []string{"replicaCount=2"}, errContains: "replicaCount 2 needs config.state.driver: postgres"},
		}
		// Every secret key of the configuration (a key with a *_file
		// sibling in the Go sources) is refused inline.
		for _, key := range secretKeys(t) {
			tests = append(tests, struct {
				name        string
				sets        []string
				errContains string
			}{name: "inline " + key, sets: []string{"config.jobs[0].source.local." + key + "=hunter2-" + key}, errContains: "config.jobs[0].source.local." + key + ": secret written inline"})
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, out, err := helmTemplate(t, helm, "", tt.sets...)
				if err == nil || !strings.Contains(out, tt.errContains) {
					t.Fatalf("helm template %v: err %v, output %q; want an error containing %q", tt.sets, err, out, tt.errContains)
				}
				if strings.Contains(out, "hunter2") {
					t.Errorf("the error shows the secret: %s", out)
				}
			})
		}
	})
}

// checkDeployment checks the Deployment's pod: command, probes, security
// context and volumes.
func checkDeployment(t *testing.T, docs []manifest) manifest {
	t.Helper()
	dep := byKind(t, docs, "Deployment")
	pod := get(dep, "spec", "template", "spec")
	c := get(pod, "containers", 0)
	if c == nil {
		t.Fatalf("no container in %v", pod)
	}
	if args := get(c, "args"); !reflect.DeepEqual(args, []any{"run", "-c", "/etc/lettrage/lettrage.yaml"}) {
		t.Errorf("args %v", args)
	}
	if get(c, "ports", 0, "containerPort") != 9464 || get(c, "ports", 0, "name") != "http" {
		t.Errorf("ports %v, want http 9464", get(c, "ports"))
	}
	for probe, path := range map[string]string{"livenessProbe": "/healthz", "readinessProbe": "/readyz", "startupProbe": "/healthz"} {
		if get(c, probe, "httpGet", "path") != path || get(c, probe, "httpGet", "port") != "http" {
			t.Errorf("%s %v, want GET %s on port http", probe, get(c, probe), path)
		}
	}
	if get(pod, "securityContext", "runAsNonRoot") != true {
		t.Errorf("pod securityContext %v: runAsNonRoot required", get(pod, "securityContext"))
	}
	sc := get(c, "securityContext")
	if get(sc, "readOnlyRootFilesystem") != true || get(sc, "allowPrivilegeEscalation") != false ||
		get(sc, "runAsNonRoot") != true || !reflect.DeepEqual(get(sc, "capabilities", "drop"), []any{"ALL"}) {
		t.Errorf("container securityContext %v: want read-only root, no privilege escalation, non-root, drop ALL", sc)
	}
	if get(c, "resources", "requests") == nil || get(c, "resources", "limits", "memory") == nil {
		t.Errorf("resources %v: requests and a memory limit required", get(c, "resources"))
	}
	mounts := map[string]string{}
	for _, m := range get(c, "volumeMounts").([]any) {
		mounts[get(m, "mountPath").(string)] = get(m, "name").(string)
	}
	for path, vol := range map[string]string{"/etc/lettrage/lettrage.yaml": "config", "/var/lib/lettrage": "state", "/tmp": "tmp"} {
		if mounts[path] != vol {
			t.Errorf("mount %s = %q, want volume %q", path, mounts[path], vol)
		}
	}
	if get(pod, "automountServiceAccountToken") != false {
		t.Errorf("automountServiceAccountToken %v, want false", get(pod, "automountServiceAccountToken"))
	}
	if n, _ := get(pod, "terminationGracePeriodSeconds").(int); n < 60 {
		t.Errorf("terminationGracePeriodSeconds %v, want at least 60 (a pass finishes its file)", get(pod, "terminationGracePeriodSeconds"))
	}
	// The rendered configuration is valid, with the secret files the pod
	// mounts and the environment it sets.
	cm := byKind(t, docs, "ConfigMap")
	text, _ := get(cm, "data", "lettrage.yaml").(string)
	secrets := t.TempDir()
	for _, p := range regexp.MustCompile(`/etc/lettrage/secrets/[^\s"']+`).FindAllString(text, -1) {
		f := filepath.Join(secrets, strings.TrimPrefix(p, "/etc/lettrage/secrets/"))
		if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f, []byte("not-a-real-secret\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	env, _ := get(pod, "containers", 0, "env").([]any)
	for _, e := range env {
		t.Setenv(get(e, "name").(string), "from-the-pod-environment")
	}
	text = strings.ReplaceAll(text, "/etc/lettrage/secrets/", secrets+"/")
	cfg, err := config.Parse([]byte(text), "/etc/lettrage")
	if err != nil {
		t.Errorf("the chart's configuration is invalid: %v\n%s", err, text)
	} else if !strings.HasSuffix(cfg.HTTP.Listen, ":9464") || strings.HasPrefix(cfg.HTTP.Listen, "127.") {
		t.Errorf("http.listen %q: the probes and the Service need 0.0.0.0:9464", cfg.HTTP.Listen)
	}
	return dep
}

// checkNoInlineSecrets checks that no Secret is rendered, that secret
// environment variables come from secretKeyRef, and that the
// configuration holds no secret value.
func checkNoInlineSecrets(t *testing.T, docs []manifest, raw string) {
	t.Helper()
	for _, d := range docs {
		if d.kind() == "Secret" {
			t.Errorf("the chart renders a Secret: secrets must come from existing Secrets")
		}
	}
	dep := byKind(t, docs, "Deployment")
	env, _ := get(dep, "spec", "template", "spec", "containers", 0, "env").([]any)
	secretName := regexp.MustCompile(`(?i)pass|secret|token|key|dsn|cred`)
	for _, e := range env {
		name, _ := get(e, "name").(string)
		if secretName.MatchString(name) && get(e, "valueFrom", "secretKeyRef") == nil {
			t.Errorf("env %s looks secret but does not come from a secretKeyRef: %v", name, e)
		}
	}
	cm := byKind(t, docs, "ConfigMap")
	text, _ := get(cm, "data", "lettrage.yaml").(string)
	keys := secretKeys(t)
	for _, line := range strings.Split(text, "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "- ")), ":")
		v = strings.Trim(strings.TrimSpace(v), `"'`)
		if ok && contains(keys, k) && v != "" && !strings.HasPrefix(v, "${") {
			t.Errorf("ConfigMap: %s holds a secret value", k)
		}
	}
}

// secretKeys lists the configuration keys that hold secrets: every key x
// with an x_file sibling in the configuration structs.
func secretKeys(t *testing.T) []string {
	t.Helper()
	re := regexp.MustCompile(`yaml:"([a-z_]+)_file"`)
	set := map[string]bool{}
	for _, dir := range []string{"config", "connectors"} {
		err := filepath.WalkDir(filepath.Join(repoRoot, dir), func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
				return err
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			for _, m := range re.FindAllSubmatch(b, -1) {
				set[string(m[1])] = true
			}
			return nil
		})
		if err != nil {
			t.Fatalf("listing secret keys: %v", err)
		}
	}
	var out []string
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	if len(out) == 0 {
		t.Fatal("no *_file keys found in the configuration structs")
	}
	return out
}

func kindsOf(docs []manifest) []string {
	var out []string
	for _, d := range docs {
		out = append(out, d.kind())
	}
	sort.Strings(out)
	return out
}

func byKind(t *testing.T, docs []manifest, kind string) manifest {
	t.Helper()
	for _, d := range docs {
		if d.kind() == kind {
			return d
		}
	}
	t.Fatalf("no %s rendered", kind)
	return nil
}

func writeTemp(t *testing.T, content string) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "values.yaml")
	if err := os.WriteFile(f, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return f
}

// TestChartAlertsCopy checks that the chart's copy of the alert rules
// (helm can only read files inside the chart) equals
// deploy/prometheus/alerts.yml: `cp deploy/prometheus/alerts.yml
// deploy/helm/lettrage/files/alerts.yml` after editing the rules.
func TestChartAlertsCopy(t *testing.T) {
	a := readFile(t, alertsFile)
	b := readFile(t, chartDir+"/files/alerts.yml")
	if !bytes.Equal(a, b) {
		t.Errorf("%s/files/alerts.yml differs from %s: copy it", chartDir, alertsFile)
	}
}
