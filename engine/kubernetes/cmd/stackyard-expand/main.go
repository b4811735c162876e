// Command stackyard-expand turns Helm charts and YAML objects into the Kubernetes objects that the
// pinned pulumi-kubernetes provider writes in render mode (renderYamlToDirectory), so that the
// offline `stackyard render` exports them without a Pulumi engine.
//
// It is built from the same wrapper module as our provider, so it links the provider's own Helm
// (helm.sh/helm/v3 at the provider's pin), its chart templating (pkg/helm), its YAML parsing and
// namespace defaulting (pkg/provider/yaml/v2) and its object normalisation (pkg/clients). The
// steps of Chart v4's Construct and of the provider's Check that are not exported are written
// here again, each with the provider function it follows named beside it; the engine tier
// compares the result with the provider's own render, object by object.
//
// Protocol: `stackyard-expand version` prints a JSON description of the build. Otherwise it reads
// one JSON request on stdin and writes one JSON response on stdout; a failure exits 1 with
// {"error": "..."} on stdout, Helm's message included.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strings"

	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/clients"
	kubehelm "github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/helm"
	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/kinds"
	provideryamlv2 "github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/provider/yaml/v2"
	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version"
	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/cli"
	"helm.sh/helm/v3/pkg/registry"
	"helm.sh/helm/v3/pkg/release"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

// protocol is bumped whenever a request or response changes shape; stackyard refuses another one.
const protocol = 1

type request struct {
	// Mode is "chart" (template a chart as helm.v4.Chart does), "objects" (objects that
	// yaml/v2's ConfigGroup and ConfigFile register), "check" (objects as the provider's Check
	// leaves them, the oracle for stackyard's offline conversion) or "pull" (download a chart).
	Mode string `json:"mode"`

	Chart     string         `json:"chart"`
	Release   string         `json:"release"`
	Namespace string         `json:"namespace"`
	Values    map[string]any `json:"values"`
	SkipCrds  bool           `json:"skipCrds"`

	Objects []map[string]any `json:"objects"`
	YAML    string           `json:"yaml"`

	// Pull: download Version of Chart from Repository (or an oci:// Chart) into Destination,
	// through Helm's own getters, as the provider's chart resolution would.
	Version     string `json:"version"`
	Repository  string `json:"repository"`
	Destination string `json:"destination"`
	PlainHTTP   bool   `json:"plainHttp"`
}

type object struct {
	Template string         `json:"template,omitempty"`
	Object   map[string]any `json:"object"`
}

type hook struct {
	Template string   `json:"template"`
	Kind     string   `json:"kind"`
	Name     string   `json:"name"`
	Events   []string `json:"events"`
}

type chartInfo struct {
	Name        string `json:"name"`
	Version     string `json:"version"`
	AppVersion  string `json:"appVersion"`
	KubeVersion string `json:"kubeVersion"`
	Deprecated  bool   `json:"deprecated"`
}

type response struct {
	Chart   *chartInfo `json:"chart,omitempty"`
	Objects []object   `json:"objects"`
	Hooks   []hook     `json:"hooks"`
}

func main() {
	if len(os.Args) == 2 && os.Args[1] == "version" {
		emit(describe())
		return
	}
	if len(os.Args) == 2 && os.Args[1] == "api-types" {
		emit(apiTypes())
		return
	}
	if len(os.Args) != 1 {
		fail(errors.New("usage: stackyard-expand [version] < request.json"))
	}
	// Decoded as the engine's wire decodes values: every number a float64, as the provider's
	// Chart and ConfigGroup receive them (chart values included).
	var req request
	if err := json.NewDecoder(os.Stdin).Decode(&req); err != nil {
		fail(fmt.Errorf("reading the request: %w", err))
	}
	var (
		resp *response
		err  error
	)
	switch req.Mode {
	case "chart":
		resp, err = expandChart(context.Background(), req)
	case "objects":
		resp, err = expandObjects(context.Background(), req)
	case "check":
		resp, err = checkOnly(req)
	case "pull":
		var saved string
		saved, err = pull(req)
		if err == nil {
			emit(map[string]string{"saved": saved})
			return
		}
	default:
		err = fmt.Errorf("mode %q: expected chart or objects", req.Mode)
	}
	if err != nil {
		fail(err)
	}
	emit(resp)
}

func describe() map[string]any {
	caps := chartutil.DefaultCapabilities
	return map[string]any{
		"protocol":    protocol,
		"helm":        moduleVersion("helm.sh/helm/v3"),
		"provider":    version.Version,
		"kubeVersion": caps.KubeVersion.Version,
	}
}

// moduleVersion is the version of a module linked into this binary, from its build information.
func moduleVersion(path string) string {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range info.Deps {
			if dep.Path == path {
				return dep.Version
			}
		}
	}
	return "unknown"
}

func emit(value any) {
	out := json.NewEncoder(os.Stdout)
	out.SetEscapeHTML(false)
	if err := out.Encode(value); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func fail(err error) {
	emit(map[string]string{"error": err.Error()})
	os.Exit(1)
}

// expandChart templates a chart with the settings Chart v4's Construct gives `helm template`
// (pkg/provider/helm/v4/chart.go) when the provider has no cluster: client-only, hooks disabled,
// CRDs included unless skipped, Helm's default capabilities.
func expandChart(ctx context.Context, req request) (*response, error) {
	tool := kubehelm.NewTool(cli.New())
	cmd := tool.Template()
	cmd.DisableOpenAPIValidation = true
	cmd.Validate = false
	cmd.ClientOnly = true
	cmd.DryRun = true
	cmd.DryRunOption = "server"
	cmd.Chart = req.Chart
	cmd.Values.Values = req.Values
	cmd.IncludeCRDs = !req.SkipCrds
	cmd.DisableHooks = true
	cmd.ReleaseName = req.Release
	cmd.Namespace = req.Namespace

	rel, err := cmd.Execute(ctx)
	if err != nil {
		return nil, err
	}
	objs, err := provideryamlv2.Parse(ctx, provideryamlv2.ParseOptions{YAML: rel.Manifest})
	if err != nil {
		return nil, err
	}
	namespace := req.Namespace
	if namespace == "" {
		namespace = "default" // the provider's default namespace in render mode
	}
	templates, err := templatesOf(rel.Manifest)
	if err != nil {
		return nil, err
	}
	resp, err := registered(objs, namespace, templates)
	if err != nil {
		return nil, err
	}
	meta := rel.Chart.Metadata
	resp.Chart = &chartInfo{
		Name: meta.Name, Version: meta.Version, AppVersion: meta.AppVersion,
		KubeVersion: meta.KubeVersion, Deprecated: meta.Deprecated,
	}
	resp.Hooks = hooksOf(rel.Hooks)
	return resp, nil
}

// pull downloads a chart archive into req.Destination and names the file it wrote. Helm's
// repository cache goes there too, so nothing is written outside it.
func pull(req request) (string, error) {
	// Helm's repository downloader writes a repository's index under helmpath.CachePath("repository")
	// whatever RepositoryCache says (pkg/repo/chartrepo.go), so point Helm's cache home into the
	// destination too: nothing is written outside it.
	if err := os.Setenv("HELM_CACHE_HOME", filepath.Join(req.Destination, ".helm-cache-home")); err != nil {
		return "", err
	}
	settings := cli.New()
	settings.RepositoryCache = filepath.Join(req.Destination, ".helm-cache")
	settings.RepositoryConfig = filepath.Join(req.Destination, ".helm-repositories.yaml")
	settings.RegistryConfig = filepath.Join(req.Destination, ".helm-registry.json")
	options := []registry.ClientOption{registry.ClientOptWriter(io.Discard), registry.ClientOptCredentialsFile(settings.RegistryConfig)}
	if req.PlainHTTP {
		options = append(options, registry.ClientOptPlainHTTP())
	}
	client, err := registry.NewClient(options...)
	if err != nil {
		return "", err
	}
	config := &action.Configuration{RegistryClient: client}
	puller := action.NewPullWithOpts(action.WithConfig(config))
	puller.Settings = settings
	puller.SetRegistryClient(client)
	puller.RepoURL = req.Repository
	puller.Version = req.Version
	puller.PlainHTTP = req.PlainHTTP
	puller.DestDir = req.Destination
	before, err := archivesIn(req.Destination)
	if err != nil {
		return "", err
	}
	if _, err := puller.Run(req.Chart); err != nil {
		return "", err
	}
	after, err := archivesIn(req.Destination)
	if err != nil {
		return "", err
	}
	for name := range after {
		if !before[name] {
			return filepath.Join(req.Destination, name), nil
		}
	}
	return "", fmt.Errorf("helm reported success but wrote no chart archive into %s", req.Destination)
}

func archivesIn(folder string) (map[string]bool, error) {
	entries, err := os.ReadDir(folder)
	if err != nil {
		return nil, err
	}
	found := map[string]bool{}
	for _, entry := range entries {
		if strings.HasSuffix(entry.Name(), ".tgz") {
			found[entry.Name()] = true
		}
	}
	return found, nil
}

// checkOnly gives each object the form the provider's Check gives it, and nothing else: no parsing,
// no namespace defaulting. stackyard's own offline conversion (stackyard/apitypes.py) is tested
// against it.
func checkOnly(req request) (*response, error) {
	resp := &response{Objects: make([]object, 0, len(req.Objects)), Hooks: []hook{}}
	for _, given := range req.Objects {
		checked, err := asChecked(given)
		if err != nil {
			return nil, err
		}
		resp.Objects = append(resp.Objects, object{Object: checked})
	}
	return resp, nil
}

// expandObjects treats objects as yaml/v2's ConfigGroup (objs) and ConfigFile (a file's YAML) do.
func expandObjects(ctx context.Context, req request) (*response, error) {
	objs, err := provideryamlv2.Parse(ctx, provideryamlv2.ParseOptions{YAML: req.YAML})
	if err != nil {
		return nil, err
	}
	for _, given := range req.Objects {
		objs = append(objs, unstructured.Unstructured{Object: given})
	}
	namespace := req.Namespace
	if namespace == "" {
		namespace = "default"
	}
	resp, err := registered(objs, namespace, nil)
	if err != nil {
		return nil, err
	}
	resp.Hooks = []hook{}
	return resp, nil
}

// clusterScopedUnknownToProvider are built-in kinds the provider's kind table lacks, so that it
// asks the API server for their scope; without a cluster (render mode) it cannot, and fails. These
// are the answers every API server gives (they are cluster-scoped), so objects of these kinds
// expand as `pulumi up` against a cluster would.
var clusterScopedUnknownToProvider = map[string]bool{
	"admissionregistration.k8s.io/ValidatingAdmissionPolicy":        true,
	"admissionregistration.k8s.io/ValidatingAdmissionPolicyBinding": true,
	"admissionregistration.k8s.io/MutatingAdmissionPolicy":          true,
	"admissionregistration.k8s.io/MutatingAdmissionPolicyBinding":   true,
}

// registered normalises parsed objects as the provider's yaml/v2 Normalize does, then gives each
// the form the provider's Check hands to its render step.
func registered(objs []unstructured.Unstructured, namespace string, templates map[identity]string) (*response, error) {
	var asked, known []unstructured.Unstructured
	for _, obj := range objs {
		gvk := obj.GroupVersionKind()
		if clusterScopedUnknownToProvider[gvk.Group+"/"+gvk.Kind] {
			known = append(known, obj)
		} else {
			asked = append(asked, obj)
		}
	}
	normalized, err := provideryamlv2.Normalize(asked, namespace, disconnected())
	if err != nil {
		return nil, err
	}
	for _, obj := range known {
		if obj.GetName() == "" {
			return nil, fmt.Errorf("%s: Kubernetes resources require a .metadata.name", obj.GetKind())
		}
		normalized = append(normalized, obj)
	}
	resp := &response{Objects: make([]object, 0, len(normalized))}
	for _, obj := range normalized {
		if obj.GetGenerateName() != "" && obj.GetName() == "" {
			return nil, fmt.Errorf("%s: metadata.generateName is not supported in render mode", obj.GetKind())
		}
		checked, err := asChecked(obj.Object)
		if err != nil {
			return nil, err
		}
		resp.Objects = append(resp.Objects, object{Template: templates[identityOf(obj.Object)], Object: checked})
	}
	return resp, nil
}

// disconnected is the client set the provider has in render mode: no discovery, an empty CRD cache.
func disconnected() *clients.DynamicClientSet {
	set, err := clients.NewDynamicClientSet(nil)
	if err != nil {
		panic(err) // a nil config makes no connection, so it cannot fail
	}
	return set
}

// readOnlyMetadata are the fields the provider's normalizeInputs removes from every object.
var readOnlyMetadata = []string{
	"creationTimestamp", "deletionGracePeriodSeconds", "deletionTimestamp", "generation",
	"managedFields", "resourceVersion", "uid",
}

// asChecked is what the provider's Check makes of a registered object in render mode: the wire
// drops null fields; a built-in kind is converted to its Go type and back, keeping only the
// fields that were given (normalizeInputs and pruneLiveState); read-only metadata goes; and the
// wire drops the nulls that leaves, before Create writes the file.
func asChecked(given map[string]any) (map[string]any, error) {
	wire, err := onTheWire(given)
	if err != nil {
		return nil, err
	}
	uns := &unstructured.Unstructured{Object: wire}
	if kinds.KnownGroupVersions.Has(uns.GetAPIVersion()) {
		normalized, err := clients.Normalize(uns)
		if err != nil {
			return nil, err
		}
		uns = &unstructured.Unstructured{Object: keepGivenFields(normalized.Object, wire)}
	}
	for _, field := range readOnlyMetadata {
		unstructured.RemoveNestedField(uns.Object, "metadata", field)
	}
	return onTheWire(uns.Object)
}

// onTheWire is a value as the engine passes it to the provider: numbers as float64, no null
// field in any map (plugin.UnmarshalProperties with SkipNulls; nulls inside lists stay).
func onTheWire(value map[string]any) (map[string]any, error) {
	text, err := json.Marshal(value)
	if err != nil {
		return nil, err
	}
	var decoded map[string]any
	if err := json.Unmarshal(text, &decoded); err != nil {
		return nil, err
	}
	return withoutNullFields(decoded).(map[string]any), nil
}

func withoutNullFields(value any) any {
	switch typed := value.(type) {
	case map[string]any:
		kept := make(map[string]any, len(typed))
		for key, item := range typed {
			if item != nil {
				kept[key] = withoutNullFields(item)
			}
		}
		return kept
	case []any:
		items := make([]any, len(typed))
		for index, item := range typed {
			items[index] = withoutNullFields(item)
		}
		return items
	default:
		return value
	}
}

// keepGivenFields keeps, of a normalised object, the fields that the given object has, as the
// provider's pruneMap does: where the two disagree on a field's type, the normalised value wins.
func keepGivenFields(normalized, given map[string]any) map[string]any {
	if normalized == nil || given == nil {
		return nil
	}
	kept := make(map[string]any)
	for key, value := range normalized {
		original, present := given[key]
		if !present {
			continue
		}
		valueMap, isMap := value.(map[string]any)
		originalMap, wasMap := original.(map[string]any)
		valueList, isList := value.([]any)
		originalList, wasList := original.([]any)
		switch {
		case isMap && wasMap:
			kept[key] = keepGivenFields(valueMap, originalMap)
		case isList && wasList:
			kept[key] = keepGivenItems(valueList, originalList)
		default:
			kept[key] = value
		}
	}
	return kept
}

// keepGivenItems is keepGivenFields for lists (the provider's pruneSlice): item by item, as far
// as both lists go, with the normalised list as it is when the first items differ in type.
func keepGivenItems(normalized, given []any) []any {
	if normalized == nil || given == nil {
		return nil
	}
	kept := make([]any, 0, len(given))
	if len(normalized) == 0 || len(given) == 0 {
		return kept
	}
	if fmt.Sprintf("%T", normalized[0]) != fmt.Sprintf("%T", given[0]) {
		return append(kept, normalized...)
	}
	for index, original := range given {
		if index >= len(normalized) {
			break
		}
		value := normalized[index]
		if value == nil || original == nil {
			kept = append(kept, value)
			continue
		}
		valueMap, isMap := value.(map[string]any)
		originalMap, wasMap := original.(map[string]any)
		valueList, isList := value.([]any)
		originalList, wasList := original.([]any)
		switch {
		case isMap && wasMap:
			if nested := keepGivenFields(valueMap, originalMap); nested != nil {
				kept = append(kept, nested)
			}
		case isList && wasList:
			if nested := keepGivenItems(valueList, originalList); nested != nil {
				kept = append(kept, nested)
			}
		default:
			kept = append(kept, value)
		}
	}
	return kept
}

// identity names an object before namespaces are defaulted, to find the template it came from.
type identity struct{ apiVersion, kind, name string }

func identityOf(obj map[string]any) identity {
	metadata, _ := obj["metadata"].(map[string]any)
	name, _ := metadata["name"].(string)
	apiVersion, _ := obj["apiVersion"].(string)
	kind, _ := obj["kind"].(string)
	return identity{apiVersion, kind, name}
}

// templatesOf maps each object of a rendered manifest to the template Helm names in the
// "# Source:" comment before it (a document without one continues the previous file, as a CRD
// file with several documents does). A List's items map to the List's template.
func templatesOf(manifest string) (map[identity]string, error) {
	found := map[identity]string{}
	reader := utilyaml.NewYAMLReader(bufio.NewReader(strings.NewReader(manifest)))
	source := ""
	for {
		document, err := reader.Read()
		if errors.Is(err, io.EOF) {
			return found, nil
		}
		if err != nil {
			return nil, err
		}
		if named := sourceComment(string(document)); named != "" {
			source = named
		}
		objs, err := provideryamlv2.Parse(context.Background(), provideryamlv2.ParseOptions{YAML: string(document)})
		if err != nil {
			return nil, err
		}
		for _, obj := range objs {
			if _, seen := found[identityOf(obj.Object)]; !seen {
				found[identityOf(obj.Object)] = source
			}
			items, _ := obj.Object["items"].([]any)
			for _, item := range items {
				if itemMap, ok := item.(map[string]any); ok && obj.IsList() {
					found[identityOf(itemMap)] = source
				}
			}
		}
	}
}

func sourceComment(document string) string {
	for _, line := range strings.Split(document, "\n") {
		if rest, ok := strings.CutPrefix(line, "# Source: "); ok {
			return strings.TrimSpace(rest)
		}
	}
	return ""
}

// hooksOf lists the hooks Helm rendered and helm.v4.Chart does not apply, in a stable order.
func hooksOf(hooks []*release.Hook) []hook {
	listed := make([]hook, 0, len(hooks))
	for _, h := range hooks {
		events := make([]string, 0, len(h.Events))
		for _, event := range h.Events {
			events = append(events, string(event))
		}
		sort.Strings(events)
		listed = append(listed, hook{Template: h.Path, Kind: h.Kind, Name: h.Name, Events: events})
	}
	sort.Slice(listed, func(i, j int) bool {
		a, b := listed[i], listed[j]
		return a.Template+"\x00"+a.Kind+"\x00"+a.Name < b.Template+"\x00"+b.Kind+"\x00"+b.Name
	})
	return listed
}
