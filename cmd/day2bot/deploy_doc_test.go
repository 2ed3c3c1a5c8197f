package main

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// The Kubernetes manifests in docs/deploy.md are what an operator applies:
// they must parse, run three replicas of serve on the Secret's Postgres
// DSN with probes on serve's /healthz and a GOMEMLIMIT, and the ConfigMap's
// day2bot.yaml must be a config serve accepts.
func TestDeployDocManifests(t *testing.T) {
	doc, err := os.ReadFile("../../docs/deploy.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "### Kubernetes\n\n```yaml\n")
	block, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatal("docs/deploy.md has no yaml block under ### Kubernetes")
	}
	type probe struct {
		HTTPGet struct{ Path, Port string } `yaml:"httpGet"`
	}
	var kinds []string
	var secret map[string]string
	var config string
	var deploy struct {
		Spec struct {
			Replicas int
			Template struct {
				Spec struct {
					Containers []struct {
						Args    []string
						EnvFrom []struct {
							SecretRef struct{ Name string } `yaml:"secretRef"`
						} `yaml:"envFrom"`
						Env            []struct{ Name, Value string }
						ReadinessProbe probe `yaml:"readinessProbe"`
						LivenessProbe  probe `yaml:"livenessProbe"`
					}
				}
			}
		}
	}
	dec := yaml.NewDecoder(strings.NewReader(block))
	for {
		var node yaml.Node
		if err := dec.Decode(&node); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("manifests: %v", err)
		}
		var head struct {
			Kind       string
			StringData map[string]string `yaml:"stringData"`
			Data       map[string]string
		}
		if err := node.Decode(&head); err != nil {
			t.Fatal(err)
		}
		kinds = append(kinds, head.Kind)
		switch head.Kind {
		case "Secret":
			secret = head.StringData
		case "ConfigMap":
			config = head.Data["day2bot.yaml"]
		case "Deployment":
			if err := node.Decode(&deploy); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, k := range []string{"Secret", "ConfigMap", "Deployment", "Service"} {
		if !slices.Contains(kinds, k) {
			t.Errorf("no %s among %v", k, kinds)
		}
	}
	if !isPostgres(secret["DAY2BOT_DB"]) || secret["SLACK_BOT_TOKEN"] == "" {
		t.Errorf("secret = %v, want a postgres:// DAY2BOT_DB and the tokens", secret)
	}
	if deploy.Spec.Replicas != 3 || len(deploy.Spec.Template.Spec.Containers) != 1 {
		t.Fatalf("deployment = %+v", deploy)
	}
	c := deploy.Spec.Template.Spec.Containers[0]
	if !slices.Equal(c.Args[:1], []string{"serve"}) || !slices.Contains(c.Args, "$(DAY2BOT_DB)") {
		t.Errorf("args %v: want serve with --db $(DAY2BOT_DB)", c.Args)
	}
	if len(c.EnvFrom) != 1 || c.EnvFrom[0].SecretRef.Name != "day2bot" {
		t.Errorf("envFrom %+v", c.EnvFrom)
	}
	if !slices.ContainsFunc(c.Env, func(e struct{ Name, Value string }) bool { return e.Name == "GOMEMLIMIT" }) {
		t.Errorf("no GOMEMLIMIT in %+v", c.Env)
	}
	routes := map[string]bool{}
	for _, r := range baseRoutes(newMetricsRegistry()) {
		routes[strings.TrimPrefix(r.pattern, "GET ")] = true
	}
	for _, p := range []probe{c.ReadinessProbe, c.LivenessProbe} {
		if !routes[p.HTTPGet.Path] || p.HTTPGet.Path != "/healthz" {
			t.Errorf("probe on %q, want serve's /healthz", p.HTTPGet.Path)
		}
	}
	path := filepath.Join(t.TempDir(), "day2bot.yaml")
	if err := os.WriteFile(path, bytes.TrimSpace([]byte(config)), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	for k, v := range secret {
		env[k] = v
	}
	cfg, err := loadConfig(path, func(k string) string { return env[k] })
	if err != nil {
		t.Fatalf("the ConfigMap's day2bot.yaml: %v", err)
	}
	cat, err := loadCatalog(cfg.BlueprintDirs)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := resolvedApps(cat, cfg.Apps); err != nil {
		t.Errorf("the ConfigMap's apps: %v", err)
	}
}
