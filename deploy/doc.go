// Package deploy holds Lettrage's deployment kits: the Prometheus alert
// rules and their promtool tests (prometheus/), the Grafana dashboard
// (grafana/), the container image (docker/), the systemd unit (systemd/),
// the Helm chart (helm/lettrage/) and example configurations (examples/).
//
// The package has no code; its tests check the kits: the rules pass
// `promtool check rules` and `promtool test rules`, every metric a rule or
// a dashboard panel names exists in pipeline/metrics.go, the binary builds
// static for the image, the unit passes `systemd-analyze verify`, and the
// chart passes `helm lint` and renders with probes, a non-root security
// context and no secret value inline. The tools come from
// scripts/install-test-deps.sh; a missing tool fails the test in CI and
// skips it loudly elsewhere.
package deploy
