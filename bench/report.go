package main

import (
	"fmt"
	"io"
	"strings"
)

// report is everything one bench run found; it is printed as markdown and
// saved as JSON.
type report struct {
	Time         string         `json:"time"`
	Commit       string         `json:"commit"` // of the work tree
	Host         hostInfo       `json:"host"`
	Roots        string         `json:"roots"` // where the runtime roots live (makeRoots)
	Params       params         `json:"params"`
	Runtimes     []runtimeSpec  `json:"runtimes"`
	Measurements []measurement  `json:"measurements"`
	Ratios       []ratio        `json:"ratios"`
	Targets      []targetResult `json:"targets"`
	Failures     []string       `json:"failures,omitempty"`
	Leftovers    []string       `json:"leftovers,omitempty"` // found and removed by the sweep
}

// metricDef says how a metric is shown.
type metricDef struct {
	key     string
	title   string
	latency bool // shown with mean, median and p95 in the latency table
}

func metricDefs(p params) []metricDef {
	return []metricDef{
		{"run", "`run` of true, sequential", true},
		{"cycle", "`create` + `start` + wait + `delete`", true},
		{"exec", "`exec true` into a running container", true},
		{"state", fmt.Sprintf("`state`, %d containers present", p.Containers), true},
		{"list", fmt.Sprintf("`list`, %d containers present", p.Containers), true},
		{"throughput_latency", fmt.Sprintf("one lifecycle during the throughput case (%d in flight)", p.InFlight), true},
		{"throughput", fmt.Sprintf("throughput, %d containers, %d in flight (containers/s, higher is better)", p.Total, p.InFlight), false},
		{"peak_rss", "peak RSS during `run` (MiB, wait4 ru_maxrss)", false},
		{"init_rss", "created container, waiting init RSS (MiB, VmRSS)", false},
		{"init_anon", "created container, waiting init anonymous RSS (MiB, RssAnon)", false},
		{"size", "binary size (MiB)", false},
	}
}

// ratio is berth's value over a peer's for one metric.
type ratio struct {
	Metric string  `json:"metric"`
	Peer   string  `json:"peer"`
	Value  float64 `json:"value"`
}

// target is one goal of the issue, as a bound on berth's ratio to a peer.
type target struct {
	Metric string  `json:"metric"`
	Peer   string  `json:"peer"`
	AtMost bool    `json:"at_most"` // ratio ≤ Limit, else ratio ≥ Limit
	Limit  float64 `json:"limit"`
}

type targetResult struct {
	target
	Ratio    float64 `json:"ratio"`
	Measured bool    `json:"measured"`
	Met      bool    `json:"met"`
}

var targets = []target{
	{"run", "runc", true, 0.30},
	{"run", "crun", true, 1.0},
	{"cycle", "runc", true, 0.35},
	{"exec", "runc", true, 0.35},
	{"state", "runc", true, 0.25},
	{"list", "runc", true, 0.25},
	{"throughput", "runc", false, 3},
	{"init_rss", "runc", true, 0.3},
	{"peak_rss", "runc", true, 1.0},
}

// find returns the measurement of metric for rt.
func (rep *report) find(metric, rt string) (measurement, bool) {
	for _, m := range rep.Measurements {
		if m.Metric == metric && m.Runtime == rt {
			return m, true
		}
	}
	return measurement{}, false
}

// compare fills Ratios and Targets from Measurements.
func (rep *report) compare() {
	rep.Ratios = nil
	for _, m := range rep.Measurements {
		if m.Runtime == "berth" {
			continue
		}
		b, ok := rep.find(m.Metric, "berth")
		if ok && m.Value > 0 {
			rep.Ratios = append(rep.Ratios, ratio{m.Metric, m.Runtime, b.Value / m.Value})
		}
	}
	rep.Targets = nil
	for _, t := range targets {
		tr := targetResult{target: t}
		if r, ok := rep.ratio(t.Metric, t.Peer); ok {
			tr.Ratio, tr.Measured = r, true
			tr.Met = (t.AtMost && r <= t.Limit) || (!t.AtMost && r >= t.Limit)
		}
		rep.Targets = append(rep.Targets, tr)
	}
}

func (rep *report) ratio(metric, peer string) (float64, bool) {
	for _, r := range rep.Ratios {
		if r.Metric == metric && r.Peer == peer {
			return r.Value, true
		}
	}
	return 0, false
}

func (rep *report) ratioCell(metric, peer string) string {
	if r, ok := rep.ratio(metric, peer); ok {
		return fmt.Sprintf("%.2f×", r)
	}
	return "—"
}

// markdown writes the report as the tables the issue asks for.
func (rep *report) markdown(w io.Writer) {
	fmt.Fprintf(w, "## berth, runc and crun on one host (%s)\n\n", rep.Time)
	fmt.Fprintf(w, "- host: %s, %d CPUs (%s), %s RAM; cgroups: %s; RLIMIT_MEMLOCK hard limit %s\n",
		rep.Host.Kernel, rep.Host.CPUs, rep.Host.CPU, rep.Host.Mem, rep.Host.Cgroups, rep.Host.Memlock)
	fmt.Fprintf(w, "- berth tree: %s\n", rep.Commit)
	if rep.Roots != "" {
		fmt.Fprintf(w, "- %s\n", rep.Roots)
	}
	for _, rt := range rep.Runtimes {
		fmt.Fprintf(w, "- %s: `%s` (%s), %s\n", rt.Name, rt.Bin, rt.Version, rt.Note)
	}
	fmt.Fprintf(w, "- same bundle for all: busybox rootfs, config.json from internal/testbundle (ociVersion %s, terminal false); ratios are berth ÷ peer on medians\n", ociVersion)

	defs := metricDefs(rep.Params)
	var peers []string
	for _, rt := range rep.Runtimes {
		if rt.Name != "berth" {
			peers = append(peers, rt.Name)
		}
	}
	fmt.Fprintf(w, "\n### Latency (ms, lower is better)\n\n")
	fmt.Fprintf(w, "| case | runtime | mean | median | p95 | runs | berth ÷ runtime |\n|---|---|--:|--:|--:|--:|--:|\n")
	for _, d := range defs {
		if !d.latency {
			continue
		}
		title := d.title
		for _, rt := range rep.Runtimes {
			cells := "failed | | | |"
			if m, ok := rep.find(d.key, rt.Name); ok {
				cells = fmt.Sprintf("%s | %s | %s | %d |", ms(m.Stats.Mean), ms(m.Stats.Median), ms(m.Stats.P95), m.Stats.N)
			}
			r := "—"
			if rt.Name != "berth" {
				r = rep.ratioCell(d.key, rt.Name)
			}
			fmt.Fprintf(w, "| %s | %s | %s %s |\n", title, rt.Name, cells, r)
			title = ""
		}
	}

	fmt.Fprintf(w, "\n### Throughput, memory, size\n\n| metric |")
	for _, rt := range rep.Runtimes {
		fmt.Fprintf(w, " %s |", rt.Name)
	}
	for _, p := range peers {
		fmt.Fprintf(w, " berth ÷ %s |", p)
	}
	fmt.Fprintf(w, "\n|---|%s\n", strings.Repeat("--:|", len(rep.Runtimes)+len(peers)))
	for _, d := range defs {
		if d.latency {
			continue
		}
		fmt.Fprintf(w, "| %s |", d.title)
		for _, rt := range rep.Runtimes {
			fmt.Fprintf(w, " %s |", rep.valueCell(d.key, rt))
		}
		for _, p := range peers {
			fmt.Fprintf(w, " %s |", rep.ratioCell(d.key, p))
		}
		fmt.Fprintln(w)
	}

	fmt.Fprintf(w, "\n### Targets\n\n| target | berth ÷ peer | met |\n|---|--:|:-:|\n")
	for _, t := range rep.Targets {
		op := "≥"
		if t.AtMost {
			op = "≤"
		}
		got, met := "not measured", "✗"
		if t.Measured {
			got = fmt.Sprintf("%.2f×", t.Ratio)
			if t.Met {
				met = "✓"
			}
		}
		fmt.Fprintf(w, "| %s %s %.2f× %s | %s | %s |\n", t.Metric, op, t.Limit, t.Peer, got, met)
	}
	if len(rep.Failures) > 0 {
		fmt.Fprintf(w, "\n### Failures\n\n")
		for _, f := range rep.Failures {
			fmt.Fprintf(w, "- %s\n", f)
		}
	}
	if len(rep.Leftovers) > 0 {
		fmt.Fprintf(w, "\n### Left behind by a runtime (removed by the bench's sweep)\n\n")
		for _, l := range rep.Leftovers {
			fmt.Fprintf(w, "- %s\n", l)
		}
	}
}

// valueCell shows one runtime's single figure for a metric.
func (rep *report) valueCell(metric string, rt runtimeSpec) string {
	m, ok := rep.find(metric, rt.Name)
	if !ok {
		return "failed"
	}
	switch m.Unit {
	case "bytes":
		s := formatMiB(m.Value)
		if metric == "size" && rt.Dynamic {
			s += " + shared libs"
		}
		return s
	case "s":
		return ms(m.Value)
	default:
		return fmt.Sprintf("%.1f", m.Value)
	}
}

// ms formats seconds as milliseconds with three significant-ish digits.
func ms(s float64) string {
	v := s * 1000
	if v < 10 {
		return fmt.Sprintf("%.2f", v)
	}
	return fmt.Sprintf("%.1f", v)
}

func formatMiB(b float64) string { return fmt.Sprintf("%.1f", b/(1<<20)) }

// formatBytes is a human size for the host line.
func formatBytes(b float64) string {
	switch {
	case b >= 1<<30:
		return fmt.Sprintf("%.1f GiB", b/(1<<30))
	case b >= 1<<20:
		return fmt.Sprintf("%.1f MiB", b/(1<<20))
	default:
		return fmt.Sprintf("%.0f KiB", b/(1<<10))
	}
}
