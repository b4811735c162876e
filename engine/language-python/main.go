// Command pulumi-language-python is Stackyard's own build of the Pulumi language host for Python.
//
// Why our own: the upstream host lives in the nested module
// github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3, which has no tags and which the
// Go module proxy we can reach does not serve at any version (see docs/verification.md). Everything
// below the gRPC surface comes from the pinned github.com/pulumi/pulumi/sdk/v3 module: the protocol
// types, the Python toolchain (virtualenv handling), the policy-pack proxy and the
// pulumi-language-python-exec script that actually runs the program, which the build copies next to
// this binary. What this file adds is the wiring the engine expects from a language host: run a
// program, run a policy pack or a Python plugin, and report the plugins the virtualenv needs.
//
// Left out on purpose: code generation (GenerateProject/Program/Package), Pack, Link, Template,
// typecheckers, the poetry and uv toolchains, and debugger attachment. The engine never calls them for preview, up, refresh or destroy; they answer
// "unimplemented".
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	sdk "github.com/pulumi/pulumi/sdk/v3"
	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/cmdutil"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	"github.com/pulumi/pulumi/sdk/v3/go/common/version"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"github.com/pulumi/pulumi/sdk/v3/python/toolchain"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"
)

const (
	execScript = "pulumi-language-python-exec"
	// The exec script exits with this code after it has shown the user an actionable message, so the
	// engine should bail without adding a second, less useful error.
	exitAfterUserMessage = 32
)

func main() {
	showVersion := flag.Bool("version", false, "print the plugin version and exit")
	executor := flag.String("use-executor", "", "run programs with this script instead of the one beside the binary")
	flag.String("tracing", "", "accepted for compatibility with the engine; tracing is not supported")
	flag.Parse()
	if *showVersion {
		fmt.Println(version.Version)
		return
	}

	script, err := executorPath(*executor)
	if err != nil {
		cmdutil.Exit(err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	cancel := make(chan bool)
	go func() { <-ctx.Done(); stop(); close(cancel) }()

	host := &languageHost{exec: script}
	if flag.NArg() > 0 {
		host.engineAddress = flag.Arg(0)
		// The engine's health check: when the engine goes away, so do we.
		if err := rpcutil.Healthcheck(ctx, host.engineAddress, 5*time.Minute, stop); err != nil {
			cmdutil.Exit(fmt.Errorf("could not start the engine health check: %w", err))
		}
	}

	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Cancel: cancel,
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(srv, host)
			return nil
		},
	})
	if err != nil {
		cmdutil.Exit(fmt.Errorf("could not start the language host: %w", err))
	}
	// The engine reads the port from our first line of output.
	fmt.Printf("%d\n", handle.Port)
	if err := <-handle.Done; err != nil {
		cmdutil.Exit(fmt.Errorf("language host stopped serving: %w", err))
	}
}

func executorPath(given string) (string, error) {
	if given != "" {
		return given, nil
	}
	self, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("could not find this executable: %w", err)
	}
	script := filepath.Join(filepath.Dir(self), execScript)
	if _, err := os.Stat(script); err != nil {
		return "", fmt.Errorf("missing %s beside the language host: %w", execScript, err)
	}
	return script, nil
}

type languageHost struct {
	pulumirpc.UnimplementedLanguageRuntimeServer

	exec          string
	engineAddress string
}

func (h *languageHost) Handshake(
	ctx context.Context, req *pulumirpc.LanguageHandshakeRequest,
) (*pulumirpc.LanguageHandshakeResponse, error) {
	h.engineAddress = req.EngineAddress
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

func (h *languageHost) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version.Version}, nil
}

func (h *languageHost) Cancel(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	return &emptypb.Empty{}, nil
}

// pythonOptions reads the runtime options of Pulumi.yaml (or PulumiPolicy.yaml) that we support.
func pythonOptions(info *pulumirpc.ProgramInfo, plugin bool) (toolchain.PythonOptions, error) {
	opts := toolchain.PythonOptions{Root: info.RootDirectory, ProgramDir: info.ProgramDirectory}
	raw := info.GetOptions().AsMap()
	if v, ok := raw["virtualenv"]; ok {
		s, isString := v.(string)
		if !isString {
			return opts, errors.New("runtime option virtualenv must be a string")
		}
		opts.Virtualenv = s
	}
	if v, ok := raw["toolchain"]; ok && v != "pip" {
		return opts, fmt.Errorf("runtime option toolchain: %v is not supported by this language host (only pip)", v)
	}
	if _, ok := raw["typechecker"]; ok {
		return opts, errors.New("runtime option typechecker is not supported by this language host")
	}
	opts.Toolchain = toolchain.Pip
	if plugin && opts.Virtualenv == "" {
		// As upstream: plugins never run in the ambient Python environment.
		opts.Virtualenv = "venv"
	}
	return opts, nil
}

// resolveToolchain is the Python toolchain (the project's virtualenv) for a program or plugin.
func resolveToolchain(info *pulumirpc.ProgramInfo, plugin bool) (toolchain.Toolchain, error) {
	opts, err := pythonOptions(info, plugin)
	if err != nil {
		return nil, err
	}
	return toolchain.ResolveToolchain(opts)
}

// GetRequiredPackages reports each installed Python package that carries a pulumi-plugin.json, so
// that the engine checks the plugins are installed before the program runs.
func (h *languageHost) GetRequiredPackages(
	ctx context.Context, req *pulumirpc.GetRequiredPackagesRequest,
) (*pulumirpc.GetRequiredPackagesResponse, error) {
	tc, err := resolveToolchain(req.Info, false)
	if err != nil {
		return nil, err
	}
	cmd, err := tc.Command(ctx, "-c", listPluginsScript)
	if err != nil {
		return nil, err
	}
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("listing the Pulumi packages of the virtualenv: %w", err)
	}
	var found []struct {
		Name    string `json:"name"`
		Version string `json:"version"`
		Server  string `json:"server"`
	}
	if err := json.Unmarshal(out, &found); err != nil {
		return nil, fmt.Errorf("reading the Pulumi packages of the virtualenv: %w", err)
	}
	resp := &pulumirpc.GetRequiredPackagesResponse{}
	for _, p := range found {
		resp.Packages = append(resp.Packages, &pulumirpc.PackageDependency{
			Kind: string(apitype.ResourcePlugin), Name: p.Name, Version: p.Version, Server: p.Server,
		})
	}
	return resp, nil
}

// listPluginsScript prints the resource plugins that installed distributions declare in their
// pulumi-plugin.json, as a JSON list. It uses only the standard library.
const listPluginsScript = `
import json, importlib.metadata as md
found = {}
for dist in md.distributions():
    for f in dist.files or []:
        if f.name != "pulumi-plugin.json":
            continue
        data = json.loads(f.read_text() or "{}")
        if not data.get("resource"):
            continue
        name = data.get("name") or dist.metadata["Name"].removeprefix("pulumi_").removeprefix("pulumi-")
        version = data.get("version") or dist.version
        found[name] = {"name": name, "version": version, "server": data.get("server", "")}
print(json.dumps(sorted(found.values(), key=lambda p: p["name"])))
`

// Run executes the program with the exec script of the pinned SDK, inside the project's virtualenv.
func (h *languageHost) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	if h.engineAddress == "" {
		return nil, errors.New("the engine address is unknown: call Handshake before Run")
	}
	tc, err := resolveToolchain(req.Info, false)
	if err != nil {
		return nil, err
	}
	if err := tc.ValidateVenv(ctx); err != nil {
		return nil, err
	}
	cmd, err := tc.Command(ctx, append([]string{h.exec}, h.runArguments(req)...)...)
	if err != nil {
		return nil, err
	}
	config := req.GetConfig()
	if config == nil {
		// A stack without config: the exec script expects an object, never JSON null.
		config = map[string]string{}
	}
	configJSON, err := json.Marshal(config)
	if err != nil {
		return nil, fmt.Errorf("serializing the stack configuration: %w", err)
	}
	secretKeys := req.GetConfigSecretKeys()
	if secretKeys == nil {
		secretKeys = []string{}
	}
	secretKeysJSON, err := json.Marshal(secretKeys)
	if err != nil {
		return nil, fmt.Errorf("serializing the secret configuration keys: %w", err)
	}
	if cmd.Env == nil {
		cmd.Env = os.Environ()
	}
	cmd.Env = append(cmd.Env, "PULUMI_CONFIG="+string(configJSON), "PULUMI_CONFIG_SECRET_KEYS="+string(secretKeysJSON))
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	interruptOnCancel(cmd)

	if err := cmd.Run(); err != nil {
		// Python does not flush on an abnormal exit; make sure the engine sees what it printed.
		_ = os.Stdout.Sync()
		_ = os.Stderr.Sync()
		if code, ok := exitCode(err); ok {
			if code == exitAfterUserMessage {
				return &pulumirpc.RunResponse{Bail: true}, nil
			}
			return &pulumirpc.RunResponse{Error: fmt.Sprintf("program exited with non-zero exit code: %d", code)}, nil
		}
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("could not run the Python executor: %v", err)}, nil
	}
	return &pulumirpc.RunResponse{}, nil
}

// runArguments are the exec script's flags, in the order its argparse declares them, then the
// entry point and the program's own arguments.
func (h *languageHost) runArguments(req *pulumirpc.RunRequest) []string {
	var args []string
	add := func(flag, value string) {
		if value != "" {
			args = append(args, "--"+flag, value)
		}
	}
	add("monitor", req.GetMonitorAddress())
	add("engine", h.engineAddress)
	add("project", req.GetProject())
	add("root_directory", req.GetInfo().GetRootDirectory())
	add("stack", req.GetStack())
	add("pwd", req.GetPwd())
	add("dry_run", strconv.FormatBool(req.GetDryRun()))
	add("parallel", strconv.Itoa(int(req.GetParallel())))
	add("organization", req.GetOrganization())
	args = append(args, req.GetInfo().GetEntryPoint())
	return append(args, req.GetArgs()...)
}

// RunPlugin runs a policy pack (kind analyzer) with `python -m pulumi.policy`, or another Python
// plugin by its directory, streaming its output back to the engine.
func (h *languageHost) RunPlugin(
	req *pulumirpc.RunPluginRequest, server pulumirpc.LanguageRuntime_RunPluginServer,
) error {
	ctx := server.Context()
	analyzer := req.Kind == string(apitype.AnalyzerPlugin)
	tc, err := resolveToolchain(req.Info, !analyzer)
	if err != nil {
		return err
	}
	var args []string
	if analyzer {
		// Policy packs take the engine address first and their own directory last.
		args = append(append([]string{"-u", "-m", "pulumi.policy"}, req.Args...), req.Info.ProgramDirectory)
	} else {
		args = append([]string{req.Info.ProgramDirectory}, req.Args...)
	}
	cmd, err := tc.Command(ctx, args...)
	if err != nil {
		return err
	}
	closer, stdout, stderr, err := rpcutil.MakeRunPluginStreams(server, false)
	if err != nil {
		return err
	}
	defer closer.Close()
	if cmd.Env == nil {
		cmd.Env = os.Environ()
	}

	var proxy *sdk.PolicyProxy
	if analyzer {
		// A policy pack runs from its own directory and learns the stack it judges from the
		// environment; the proxy answers the engine's ConfigureStack call to find out which stack.
		cmd.Dir = req.Info.ProgramDirectory
		if proxy, stdout, err = sdk.NewPolicyProxy(ctx, stdout); err != nil {
			return fmt.Errorf("could not start the policy pack proxy: %w", err)
		}
		stack, err := proxy.AwaitConfiguration(ctx)
		if err != nil {
			return fmt.Errorf("could not get the stack configuration: %w", err)
		}
		if cmd.Env, err = policyEnvironment(cmd.Env, stack); err != nil {
			return err
		}
	} else {
		cmd.Dir = req.Pwd
	}
	cmd.Env = append(cmd.Env, req.Env...)
	cmd.Stdout, cmd.Stderr = stdout, stderr

	if err := cmd.Start(); err != nil {
		return fmt.Errorf("could not start the plugin: %w", err)
	}
	if proxy != nil {
		return proxy.Attach(ctx, cmd)
	}
	if err := cmd.Wait(); err != nil {
		if code, ok := exitCode(err); ok {
			return server.Send(&pulumirpc.RunPluginResponse{
				Output: &pulumirpc.RunPluginResponse_Exitcode{Exitcode: int32(code)}, //nolint:gosec // an 8-bit code
			})
		}
		return fmt.Errorf("plugin exited unexpectedly: %w", err)
	}
	return closer.Close()
}

func policyEnvironment(env []string, stack *pulumirpc.AnalyzerStackConfigureRequest) ([]string, error) {
	if stack == nil {
		return env, nil
	}
	add := func(k, v string) {
		if v != "" {
			env = append(env, k+"="+v)
		}
	}
	add("PULUMI_ORGANIZATION", stack.Organization)
	add("PULUMI_PROJECT", stack.Project)
	add("PULUMI_STACK", stack.Stack)
	add("PULUMI_DRY_RUN", strconv.FormatBool(stack.DryRun))
	if stack.Config != nil {
		config, err := json.Marshal(stack.Config)
		if err != nil {
			return nil, fmt.Errorf("serializing the stack configuration for the policy pack: %w", err)
		}
		add("PULUMI_CONFIG", string(config))
	}
	return env, nil
}

// InstallDependencies creates the virtualenv if needed and installs requirements.txt into it; the
// CLI calls it for `pulumi install` and for policy packs it installs itself.
func (h *languageHost) InstallDependencies(
	req *pulumirpc.InstallDependenciesRequest, server pulumirpc.LanguageRuntime_InstallDependenciesServer,
) error {
	tc, err := resolveToolchain(req.Info, req.IsPlugin)
	if err != nil {
		return err
	}
	closer, stdout, stderr, err := rpcutil.MakeInstallDependenciesStreams(server, req.IsTerminal)
	if err != nil {
		return err
	}
	defer closer.Close()
	if err := tc.InstallDependencies(server.Context(), req.Info.ProgramDirectory, req.UseLanguageVersionTools,
		true, stdout, stderr); err != nil {
		return err
	}
	return closer.Close()
}

// About and GetProgramDependencies serve `pulumi about`.
func (h *languageHost) About(ctx context.Context, req *pulumirpc.AboutRequest) (*pulumirpc.AboutResponse, error) {
	tc, err := resolveToolchain(req.Info, false)
	if err != nil {
		return nil, err
	}
	info, err := tc.About(ctx)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.AboutResponse{Executable: info.PythonExecutable, Version: info.PythonVersion.String()}, nil
}

func (h *languageHost) GetProgramDependencies(
	ctx context.Context, req *pulumirpc.GetProgramDependenciesRequest,
) (*pulumirpc.GetProgramDependenciesResponse, error) {
	tc, err := resolveToolchain(req.Info, false)
	if err != nil {
		return nil, err
	}
	deps, err := tc.ListPackages(ctx, req.TransitiveDependencies)
	if err != nil {
		return nil, err
	}
	resp := &pulumirpc.GetProgramDependenciesResponse{}
	for _, d := range deps {
		resp.Dependencies = append(resp.Dependencies, &pulumirpc.DependencyInfo{Name: d.Name, Version: d.Version})
	}
	return resp, nil
}

// interruptOnCancel gives a cancelled program a SIGINT and five seconds before it is killed, so the
// SDK can flush its last registrations.
func interruptOnCancel(cmd *exec.Cmd) {
	cmd.Cancel = func() error {
		if err := cmd.Process.Signal(os.Interrupt); err != nil {
			return cmd.Process.Kill()
		}
		return nil
	}
	cmd.WaitDelay = 5 * time.Second
}

func exitCode(err error) (int, bool) {
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) {
		return 0, false
	}
	status, ok := exitErr.Sys().(syscall.WaitStatus)
	if !ok {
		return 0, false
	}
	return status.ExitStatus(), true
}
