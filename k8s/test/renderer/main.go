// helm-render: renders a Helm chart the way `helm template` does, for tests on machines without helm.
//
// It reproduces the parts of Helm 3's engine (pkg/engine, pkg/chartutil) that this chart relies on:
// Go text/template + sprig (minus env/expandenv), Helm's extra functions (include, tpl, required,
// toYaml, fromYaml, toJson, fromJson, lookup -> always empty, as under `helm template`), values
// coalescing (later files win, null deletes a default), numbers parsed as float64 (as Helm's
// sigs.k8s.io/yaml does), missingkey=zero with "<no value>" blanked, partials (_*.tpl) not rendered,
// NOTES.txt rendered separately. It does NOT validate values.schema.json (the tests do that with ajv),
// and it knows no subcharts, .Files globbing or Capabilities beyond a fixed Kubernetes version.
//
// Usage: helm-render [-f values.yaml]... [-name tessera] [-namespace default] [-upgrade] [-json] CHART_DIR
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig"
	yaml "gopkg.in/yaml.v2"
)

type valueFiles []string

func (v *valueFiles) String() string     { return strings.Join(*v, ",") }
func (v *valueFiles) Set(s string) error { *v = append(*v, s); return nil }

// apiVersions answers .Capabilities.APIVersions.Has like Helm's VersionSet.
type apiVersions []string

func (a apiVersions) Has(v string) bool {
	for _, x := range a {
		if x == v {
			return true
		}
	}
	return false
}

// yamlToJSONValue parses YAML into JSON-compatible values (map[string]interface{}, float64 numbers),
// which is what Helm's values look like after sigs.k8s.io/yaml.
func yamlToJSONValue(data []byte) (interface{}, error) {
	var raw interface{}
	if err := yaml.Unmarshal(data, &raw); err != nil {
		return nil, err
	}
	converted, err := toStringKeys(raw)
	if err != nil {
		return nil, err
	}
	j, err := json.Marshal(converted)
	if err != nil {
		return nil, err
	}
	var out interface{}
	err = json.Unmarshal(j, &out)
	return out, err
}

func toStringKeys(v interface{}) (interface{}, error) {
	switch t := v.(type) {
	case map[interface{}]interface{}:
		m := map[string]interface{}{}
		for k, val := range t {
			c, err := toStringKeys(val)
			if err != nil {
				return nil, err
			}
			m[fmt.Sprint(k)] = c
		}
		return m, nil
	case []interface{}:
		for i, val := range t {
			c, err := toStringKeys(val)
			if err != nil {
				return nil, err
			}
			t[i] = c
		}
		return t, nil
	default:
		return v, nil
	}
}

// toYAML mirrors Helm's toYaml: JSON first (so struct tags and key order match), then YAML, no trailing newline.
func toYAML(v interface{}) string {
	j, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	var obj interface{}
	if err := yaml.Unmarshal(j, &obj); err != nil {
		return ""
	}
	out, err := yaml.Marshal(obj)
	if err != nil {
		return ""
	}
	return strings.TrimSuffix(string(out), "\n")
}

func fromYAML(s string) map[string]interface{} {
	v, err := yamlToJSONValue([]byte(s))
	m, ok := v.(map[string]interface{})
	if err != nil {
		return map[string]interface{}{"Error": err.Error()}
	}
	if !ok {
		return map[string]interface{}{}
	}
	return m
}

func toJSON(v interface{}) string {
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(b)
}

func fromJSON(s string) map[string]interface{} {
	m := map[string]interface{}{}
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		m["Error"] = err.Error()
	}
	return m
}

// coalesce merges user values over chart defaults like chartutil.CoalesceTables: user wins, maps merge, null deletes.
func coalesce(dst, src map[string]interface{}) map[string]interface{} {
	for k, sv := range src {
		if sv == nil {
			delete(dst, k)
			continue
		}
		dm, dIsMap := dst[k].(map[string]interface{})
		sm, sIsMap := sv.(map[string]interface{})
		if dIsMap && sIsMap {
			dst[k] = coalesce(dm, sm)
		} else {
			dst[k] = sv
		}
	}
	return dst
}

func readYAMLMap(path string) (map[string]interface{}, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	v, err := yamlToJSONValue(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	if v == nil {
		return map[string]interface{}{}, nil
	}
	m, ok := v.(map[string]interface{})
	if !ok {
		return nil, fmt.Errorf("%s: not a YAML mapping", path)
	}
	return m, nil
}

type rendered struct {
	Source  string `json:"source"`
	Content string `json:"content"`
}

var docSep = regexp.MustCompile(`(?m)^---\s*$`)

func main() {
	var files valueFiles
	flag.Var(&files, "f", "values file (repeatable; later files win)")
	name := flag.String("name", "tessera", "release name")
	namespace := flag.String("namespace", "default", "release namespace")
	upgrade := flag.Bool("upgrade", false, "render as an upgrade (.Release.IsUpgrade)")
	asJSON := flag.Bool("json", false, "print {manifests:[{source,content}], notes} instead of a YAML stream")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: helm-render [-f values.yaml]... [-name N] [-namespace NS] [-upgrade] [-json] CHART_DIR")
		os.Exit(2)
	}
	if err := run(flag.Arg(0), files, *name, *namespace, *upgrade, *asJSON); err != nil {
		fmt.Fprintln(os.Stderr, "Error:", err)
		os.Exit(1)
	}
}

func run(chartDir string, files []string, name, namespace string, upgrade, asJSON bool) error {
	meta, err := readYAMLMap(filepath.Join(chartDir, "Chart.yaml"))
	if err != nil {
		return err
	}
	values, err := readYAMLMap(filepath.Join(chartDir, "values.yaml"))
	if err != nil {
		return err
	}
	for _, f := range files {
		user, err := readYAMLMap(f)
		if err != nil {
			return err
		}
		values = coalesce(values, user)
	}
	chartName, _ := meta["name"].(string)
	// Helm exposes chart metadata with Go field names (.Chart.Name, .Chart.AppVersion).
	chartObj := map[string]interface{}{}
	for k, v := range meta {
		chartObj[strings.ToUpper(k[:1])+k[1:]] = v
	}
	top := map[string]interface{}{
		"Values": values,
		"Chart":  chartObj,
		"Release": map[string]interface{}{
			"Name": name, "Namespace": namespace, "IsInstall": !upgrade, "IsUpgrade": upgrade,
			"Revision": map[bool]int{false: 1, true: 2}[upgrade], "Service": "Helm",
		},
		"Capabilities": map[string]interface{}{
			"KubeVersion": map[string]interface{}{"Version": "v1.27.0", "Major": "1", "Minor": "27", "GitVersion": "v1.27.0"},
			"APIVersions": apiVersions{"v1", "apps/v1", "batch/v1", "policy/v1", "autoscaling/v2", "networking.k8s.io/v1"},
		},
	}

	var paths []string
	err = filepath.Walk(filepath.Join(chartDir, "templates"), func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			paths = append(paths, p)
		}
		return err
	})
	if err != nil {
		return err
	}
	sort.Strings(paths)

	root := template.New("gotpl").Option("missingkey=zero")
	funcs := sprig.TxtFuncMap()
	delete(funcs, "env")
	delete(funcs, "expandenv")
	includeDepth := map[string]int{}
	funcs["toYaml"] = toYAML
	funcs["fromYaml"] = fromYAML
	funcs["fromYamlArray"] = func(s string) []interface{} {
		v, err := yamlToJSONValue([]byte(s))
		if err != nil {
			return []interface{}{err.Error()}
		}
		a, _ := v.([]interface{})
		return a
	}
	funcs["toJson"] = toJSON
	funcs["fromJson"] = fromJSON
	funcs["lookup"] = func(string, string, string, string) (map[string]interface{}, error) { return map[string]interface{}{}, nil }
	funcs["required"] = func(msg string, v interface{}) (interface{}, error) {
		if v == nil {
			return v, fmt.Errorf("%s", msg)
		}
		if s, ok := v.(string); ok && s == "" {
			return v, fmt.Errorf("%s", msg)
		}
		return v, nil
	}
	funcs["include"] = func(tname string, data interface{}) (string, error) {
		includeDepth[tname]++
		defer func() { includeDepth[tname]-- }()
		if includeDepth[tname] > 1000 {
			return "", fmt.Errorf("rendering template has a nested reference name: %s", tname)
		}
		var buf bytes.Buffer
		err := root.ExecuteTemplate(&buf, tname, data)
		return buf.String(), err
	}
	funcs["tpl"] = func(text string, data interface{}) (string, error) {
		t, err := root.Clone()
		if err != nil {
			return "", err
		}
		t, err = t.New("tpl").Parse(text)
		if err != nil {
			return "", err
		}
		var buf bytes.Buffer
		err = t.Execute(&buf, data)
		return strings.ReplaceAll(buf.String(), "<no value>", ""), err
	}
	root.Funcs(funcs)

	names := map[string]string{}
	for _, p := range paths {
		rel, _ := filepath.Rel(chartDir, p)
		tname := chartName + "/" + filepath.ToSlash(rel)
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if _, err := root.New(tname).Parse(string(data)); err != nil {
			return err
		}
		names[tname] = filepath.Base(p)
	}

	var manifests []rendered
	notes := ""
	var ordered []string
	for t := range names {
		ordered = append(ordered, t)
	}
	sort.Strings(ordered)
	for _, tname := range ordered {
		base := names[tname]
		if strings.HasPrefix(base, "_") {
			continue
		}
		scope := map[string]interface{}{}
		for k, v := range top {
			scope[k] = v
		}
		scope["Template"] = map[string]interface{}{"Name": tname, "BasePath": chartName + "/templates"}
		var buf bytes.Buffer
		if err := root.ExecuteTemplate(&buf, tname, scope); err != nil {
			return err
		}
		out := strings.ReplaceAll(buf.String(), "<no value>", "")
		if base == "NOTES.txt" {
			notes = out
			continue
		}
		for _, doc := range docSep.Split(out, -1) {
			if strings.TrimSpace(doc) == "" || isOnlyComments(doc) {
				continue
			}
			manifests = append(manifests, rendered{Source: tname, Content: strings.TrimSpace(doc) + "\n"})
		}
	}

	if asJSON {
		return json.NewEncoder(os.Stdout).Encode(map[string]interface{}{"manifests": manifests, "notes": notes})
	}
	for _, m := range manifests {
		fmt.Printf("---\n# Source: %s\n%s", m.Source, m.Content)
	}
	if notes != "" {
		fmt.Fprintf(os.Stderr, "NOTES:\n%s\n", notes)
	}
	return nil
}

func isOnlyComments(doc string) bool {
	for _, line := range strings.Split(doc, "\n") {
		l := strings.TrimSpace(line)
		if l != "" && !strings.HasPrefix(l, "#") {
			return false
		}
	}
	return true
}
