// Command bench measures berth against runc and crun in one run, on one
// busybox bundle and one host, and prints a markdown table (also saved as
// JSON under bench/results/). `make bench` runs it; docs/performance.md
// says what each case measures.
//
//	go run ./bench [-berth bin/berth] [-smoke] [-runs 50] ...
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == workerArg {
		os.Exit(workerMain())
	}
	os.Exit(driverMain(os.Args[1:]))
}

// options are the driver's flags.
type options struct {
	berth, runc, crun string
	runtimes          []string
	out               string
	params            params
}

func parseFlags(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.StringVar(&o.berth, "berth", "bin/berth", "berth binary to measure")
	fs.StringVar(&o.runc, "runc", "", "runc binary (default: from PATH)")
	fs.StringVar(&o.crun, "crun", "", "crun binary (default: from PATH)")
	list := fs.String("runtimes", "berth,runc,crun", "runtimes to measure, berth first")
	fs.StringVar(&o.out, "out", "bench/results", "directory for the JSON result")
	smoke := fs.Bool("smoke", false, "one iteration per case, few containers (a check that every case works)")
	fs.IntVar(&o.params.Runs, "runs", 50, "timed iterations of run, create+start+delete, exec, state and list")
	fs.IntVar(&o.params.Warmup, "warmup", 5, "untimed iterations before those")
	fs.IntVar(&o.params.Containers, "containers", 100, "running containers present for state and list")
	fs.IntVar(&o.params.Total, "total", 200, "containers in the throughput case")
	fs.IntVar(&o.params.InFlight, "in-flight", 8, "concurrent lifecycles in the throughput case")
	fs.IntVar(&o.params.MemRuns, "memory-runs", 10, "samples of each memory figure")
	fs.SetOutput(io.Discard) // errors are printed once, as one line, by the caller
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(os.Stderr)
			fmt.Fprintln(os.Stderr, "usage: go run ./bench [flags]  (make bench; see docs/performance.md)")
			fs.PrintDefaults()
		}
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if *smoke {
		o.params = params{Runs: 1, Warmup: 0, Containers: 3, Total: 8, InFlight: 8, MemRuns: 1}
	}
	for name, v := range map[string]int{"-runs": o.params.Runs, "-containers": o.params.Containers,
		"-total": o.params.Total, "-in-flight": o.params.InFlight, "-memory-runs": o.params.MemRuns} {
		if v < 1 {
			return o, fmt.Errorf("%s: must be at least 1, not %d", name, v)
		}
	}
	if o.params.Warmup < 0 {
		return o, fmt.Errorf("-warmup: must not be negative, not %d", o.params.Warmup)
	}
	o.runtimes = strings.Split(*list, ",")
	if o.runtimes[0] != "berth" {
		return o, fmt.Errorf("-runtimes: must start with berth (ratios are berth's), not %q", *list)
	}
	for _, n := range o.runtimes {
		if _, ok := peerModes[n]; !ok {
			return o, fmt.Errorf("-runtimes: unknown runtime %q (berth, runc, crun)", n)
		}
	}
	return o, nil
}

func driverMain(args []string) int {
	o, err := parseFlags(args)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 1
	}
	rep, err := bench(o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 1
	}
	rep.markdown(os.Stdout)
	path, err := saveJSON(o.out, rep)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 1
	}
	fmt.Fprintln(os.Stderr, "bench: saved", path)
	if len(rep.Failures) > 0 {
		return 1
	}
	return 0
}

// bench runs every case and cleans up after itself, whatever happens.
func bench(o options) (*report, error) {
	if os.Geteuid() != 0 {
		return nil, errors.New("needs root (containers with cgroups and every namespace)")
	}
	if _, err := exec.LookPath("hyperfine"); err != nil {
		return nil, errors.New("hyperfine: not found in PATH (make bench installs it: scripts/install-deps.sh runc crun hyperfine)")
	}
	bins := map[string]string{"berth": o.berth, "runc": o.runc, "crun": o.crun}
	rep := &report{Time: time.Now().UTC().Format(time.RFC3339), Commit: gitCommit(), Host: readHost(), Params: o.params}
	for _, name := range o.runtimes {
		rt, err := findRuntime(name, bins[name])
		if err != nil {
			return nil, err
		}
		rep.Runtimes = append(rep.Runtimes, rt)
	}
	base, err := os.MkdirTemp("", "berth-bench-")
	if err != nil {
		return nil, err
	}
	roots, mounted, rootsNote, err := makeRoots()
	if err != nil {
		os.RemoveAll(base)
		return nil, err
	}
	rep.Roots = rootsNote
	s := &session{base: base, roots: roots, rootsMounted: mounted, tag: "bench" + randHex(3), params: o.params}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	err = s.measure(ctx, rep)
	rep.Leftovers = s.cleanup(rep.Runtimes)
	if ctx.Err() != nil {
		return nil, errors.New("interrupted; containers, cgroups and files removed")
	}
	if err != nil {
		return nil, err
	}
	rep.compare()
	return rep, nil
}

// session is one bench run's world: a temp directory holding the bundles
// and one --root per runtime, and the tag every container id starts with.
type session struct {
	base  string // bundles and scratch files
	roots string // one --root per runtime
	// rootsMounted: roots is a tmpfs the bench mounted (makeRoots).
	rootsMounted bool
	tag          string
	params       params
	true, sleep  string
}

func (s *session) job(c string, rt runtimeSpec) job {
	dir := filepath.Join(s.base, rt.Name)
	return job{Case: c, Runtime: rt, Mode: rt.Mode, Root: filepath.Join(s.roots, rt.Name), Scratch: filepath.Join(dir, "scratch"),
		Tag: s.tag, True: s.true, Sleep: s.sleep, Params: s.params, Result: filepath.Join(dir, "result.json")}
}

// caseOrder is the order of the cases; within a case every runtime runs in
// turn, so drift on the host hits all of them alike.
var caseOrder = []struct{ name, title string }{
	{"run", "1/6 run true"},
	{"cycle", "2/6 create+start+wait+delete"},
	{"exec", "3/6 exec true"},
	{"statelist", "4/6 state and list"},
	{"throughput", "5/6 throughput"},
	{"memory", "6/6 memory"},
}

// measure probes how each runtime runs here, then runs every case.
func (s *session) measure(ctx context.Context, rep *report) error {
	if err := os.Chmod(s.base, 0o755); err != nil {
		return err
	}
	var err error
	if s.true, s.sleep, err = makeBundles(s.base); err != nil {
		return fmt.Errorf("making the bundle: %w", err)
	}
	for i := range rep.Runtimes {
		rt := &rep.Runtimes[i]
		for _, d := range []string{filepath.Join(s.roots, rt.Name), filepath.Join(s.base, rt.Name, "scratch")} {
			if err := os.MkdirAll(d, 0o700); err != nil {
				return err
			}
		}
		if err := s.probe(ctx, rt); err != nil {
			return err
		}
	}
	for _, c := range caseOrder {
		for _, rt := range rep.Runtimes {
			fmt.Fprintf(os.Stderr, "bench: %s: %s\n", c.title, rt.Name)
			ms, err := runWorker(ctx, s.job(c.name, rt))
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if err != nil {
				fmt.Fprintln(os.Stderr, "bench:", err)
				rep.Failures = append(rep.Failures, err.Error())
			}
			rep.Measurements = append(rep.Measurements, ms...)
		}
	}
	for _, rt := range rep.Runtimes {
		if st, err := os.Stat(rt.Bin); err == nil {
			rep.Measurements = append(rep.Measurements,
				measurement{Metric: "size", Runtime: rt.Name, Unit: "bytes", Value: float64(st.Size())})
		}
	}
	return nil
}

// probe picks the first mode in which rt can run true, and says in its note
// why earlier modes were passed over.
func (s *session) probe(ctx context.Context, rt *runtimeSpec) error {
	for _, m := range rt.modes {
		rt.Mode = m
		_, err := runWorker(ctx, s.job("probe", *rt))
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err == nil {
			rt.Note = m.describe()
			if len(rt.Tried) > 0 {
				rt.Note += "; tried first: " + strings.Join(rt.Tried, "; ")
			}
			if m == modeCgroup2 {
				rt.Note += memlockNote()
			}
			return nil
		}
		rt.Tried = append(rt.Tried, fmt.Sprintf("%s failed (%v)", m, err))
	}
	return fmt.Errorf("%s cannot run a container on this host: %s", rt.Name, strings.Join(rt.Tried, "; "))
}

// memlockNote explains, when it applies, why crun on cgroup2 runs without a
// device filter: it loads one as eBPF after raising RLIMIT_MEMLOCK to
// infinity, which fails under a finite hard limit without CAP_SYS_RESOURCE,
// and it then skips the filter since the config has no deny rule.
func memlockNote() string {
	var rl unix.Rlimit
	if unix.Getrlimit(unix.RLIMIT_MEMLOCK, &rl) != nil || rl.Max == unix.RLIM_INFINITY {
		return ""
	}
	return fmt.Sprintf("; no eBPF device filter (crun must raise RLIMIT_MEMLOCK, hard limit %s here, to load one, and skips it when the config has no deny rule)",
		formatBytes(float64(rl.Max)))
}

// cleanup deletes every container left in every root (each runtime in its
// own mode), sweeps what is still alive or mounted, and removes the temp
// directory. It returns what the sweep found.
func (s *session) cleanup(rts []runtimeSpec) []string {
	for _, rt := range rts {
		if rt.Mode == "" {
			rt.Mode = modeHost
		}
		if _, err := runWorker(context.Background(), s.job("cleanup", rt)); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
		}
	}
	left := sweep(s.tag)
	for _, l := range left {
		fmt.Fprintln(os.Stderr, "bench: left behind, removed:", l)
	}
	if err := os.RemoveAll(s.base); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
	}
	if err := removeRoots(s.roots, s.rootsMounted); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
	}
	return left
}

func saveJSON(dir string, rep *report) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	t, _ := time.Parse(time.RFC3339, rep.Time)
	path := filepath.Join(dir, t.Format("20060102T150405Z")+".json")
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return "", err
	}
	return path, os.WriteFile(path, append(b, '\n'), 0o644)
}

func randHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
