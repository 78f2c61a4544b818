package main

import (
	"context"
	"fmt"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// measurement is one figure of one runtime. Value is what runtimes are
// compared on: the median of Samples, or the single figure of a case that
// yields one (throughput, binary size).
type measurement struct {
	Metric  string    `json:"metric"`
	Runtime string    `json:"runtime"`
	Unit    string    `json:"unit"` // "s", "bytes" or "containers/s"
	Samples []float64 `json:"samples,omitempty"`
	Stats   *stats    `json:"stats,omitempty"`
	Value   float64   `json:"value"`
	Note    string    `json:"note,omitempty"`
}

func sampled(metric, rt, unit string, samples []float64) measurement {
	st := summarise(samples)
	return measurement{Metric: metric, Runtime: rt, Unit: unit, Samples: samples, Stats: &st, Value: st.Median}
}

// cases maps a worker case to what it does. Each returns its measurements;
// the worker deletes every container left in the root afterwards.
var cases = map[string]func(ctx context.Context, j *job) ([]measurement, error){
	"probe":      probeCase,
	"run":        runCase1,
	"cycle":      cycleCase,
	"exec":       execCase,
	"statelist":  stateListCase,
	"throughput": throughputCase,
	"memory":     memoryCase,
	"cleanup":    func(context.Context, *job) ([]measurement, error) { return nil, nil },
}

func runCase(ctx context.Context, j *job) ([]measurement, error) {
	fn, ok := cases[j.Case]
	if !ok {
		return nil, fmt.Errorf("unknown case %q", j.Case)
	}
	return fn(ctx, j)
}

// id names the n-th container of a case. It starts with the run's tag (the
// sweep looks for it) and names the runtime, since runtimes share cgroup
// paths derived from the id.
func (j *job) id(name string, n int) string {
	return fmt.Sprintf("%s-%s-%s-%d", j.Tag, j.Runtime.Name, name, n)
}

// probeCase tells whether the runtime can run a container in this mode.
func probeCase(_ context.Context, j *job) ([]measurement, error) {
	r, err := newRunner(j)
	if err != nil {
		return nil, err
	}
	defer r.close()
	return nil, r.do("run", "--bundle", j.True, j.id("probe", 0))
}

// runCase1 (case 1): `run` of true, one after another.
func runCase1(ctx context.Context, j *job) ([]measurement, error) {
	times, err := hyperfine(ctx, j, "run", j.Runtime.argv(j.Root, "run", "--bundle", j.True, j.id("run", 0)))
	if err != nil {
		return nil, err
	}
	return []measurement{sampled("run", j.Runtime.Name, "s", times[0])}, nil
}

// cycleCase (case 2): create, start, wait for the process to exit, delete.
func cycleCase(ctx context.Context, j *job) ([]measurement, error) {
	r, err := newRunner(j)
	if err != nil {
		return nil, err
	}
	defer r.close()
	var samples []float64
	for i := 0; i < j.Params.Warmup+j.Params.Runs; i++ {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		d, err := r.cycle(j.id("cycle", i), j.True)
		if err != nil {
			return nil, err
		}
		if i >= j.Params.Warmup {
			samples = append(samples, d.Seconds())
		}
	}
	m := sampled("cycle", j.Runtime.Name, "s", samples)
	m.Note = retriesNote()
	return []measurement{m}, nil
}

// execCase (case 3): `exec true` into a running container.
func execCase(ctx context.Context, j *job) ([]measurement, error) {
	r, err := newRunner(j)
	if err != nil {
		return nil, err
	}
	defer r.close()
	id := j.id("exec", 0)
	if err := r.createStarted(id, j.Sleep); err != nil {
		return nil, err
	}
	times, err := hyperfine(ctx, j, "exec", j.Runtime.argv(j.Root, "exec", id, "true"))
	if err != nil {
		return nil, err
	}
	return []measurement{sampled("exec", j.Runtime.Name, "s", times[0])}, nil
}

// stateListCase (case 4): `state` of one container and `list`, with
// Params.Containers running containers in the root.
func stateListCase(ctx context.Context, j *job) ([]measurement, error) {
	ids := make([]string, j.Params.Containers)
	for i := range ids {
		ids[i] = j.id("sl", i)
	}
	err := forEach(ctx, j, ids, j.Params.InFlight, func(r *runner, id string) error {
		return r.createStarted(id, j.Sleep)
	})
	if err != nil {
		return nil, err
	}
	times, err := hyperfine(ctx, j, "statelist",
		j.Runtime.argv(j.Root, "state", ids[len(ids)/2]),
		j.Runtime.argv(j.Root, "list"))
	if err != nil {
		return nil, err
	}
	note := fmt.Sprintf("%d running containers present", len(ids))
	state := sampled("state", j.Runtime.Name, "s", times[0])
	list := sampled("list", j.Runtime.Name, "s", times[1])
	state.Note, list.Note = note, note
	return []measurement{state, list}, nil
}

// throughputCase (case 5): Params.Total containers each created, started,
// waited for and deleted, Params.InFlight at a time.
func throughputCase(ctx context.Context, j *job) ([]measurement, error) {
	ids := make([]string, j.Params.Total)
	for i := range ids {
		ids[i] = j.id("tp", i)
	}
	var mu sync.Mutex
	var latencies []float64
	t0 := time.Now()
	err := forEach(ctx, j, ids, j.Params.InFlight, func(r *runner, id string) error {
		d, err := r.cycle(id, j.True)
		mu.Lock()
		latencies = append(latencies, d.Seconds())
		mu.Unlock()
		return err
	})
	wall := time.Since(t0)
	if err != nil {
		return nil, err
	}
	note := fmt.Sprintf("%d containers, %d in flight, %.2f s", j.Params.Total, j.Params.InFlight, wall.Seconds())
	if n := retriesNote(); n != "" {
		note += "; " + n
	}
	rate := measurement{Metric: "throughput", Runtime: j.Runtime.Name, Unit: "containers/s",
		Value: float64(j.Params.Total) / wall.Seconds(), Note: note}
	lat := sampled("throughput_latency", j.Runtime.Name, "s", latencies)
	lat.Note = note
	return []measurement{rate, lat}, nil
}

// retriesNote says how many deletes were refused as still running (and
// retried) after the container's process had exited.
func retriesNote() string {
	if n := deleteRetries.Load(); n > 0 {
		return fmt.Sprintf("%d delete(s) refused right after the exit, retried after 1 ms", n)
	}
	return ""
}

// memoryCase (case 6): the peak RSS of `run`, and the memory a created,
// not yet started container keeps.
func memoryCase(ctx context.Context, j *job) ([]measurement, error) {
	r, err := newRunner(j)
	if err != nil {
		return nil, err
	}
	defer r.close()
	var peak, rss, anon []float64
	procs := 0
	for i := 0; i < j.Params.MemRuns; i++ {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		p, err := peakRSS(r, j.id("peak", i), j.True)
		if err != nil {
			return nil, err
		}
		peak = append(peak, p)
		id := j.id("init", i)
		pidfd, pid, err := r.create(id, j.True)
		if err != nil {
			return nil, err
		}
		unix.Close(pidfd)
		m, n, err := containerMemory(pid, j.Tag)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", j.Runtime.Name, id, err)
		}
		if err := r.do("delete", "--force", id); err != nil {
			return nil, err
		}
		rss = append(rss, float64(m.RSS))
		anon = append(anon, float64(m.Anon))
		procs = n
	}
	initRSS := sampled("init_rss", j.Runtime.Name, "bytes", rss)
	initAnon := sampled("init_anon", j.Runtime.Name, "bytes", anon)
	initRSS.Note = fmt.Sprintf("%d process(es) per created container", procs)
	initAnon.Note = initRSS.Note
	return []measurement{sampled("peak_rss", j.Runtime.Name, "bytes", peak), initRSS, initAnon}, nil
}

// peakRSS runs `run` of true and returns the ru_maxrss that wait4 reports
// for it: the high-water RSS of the runtime process or of any descendant it
// reaped (the kernel folds those in), which covers a re-exec'd init before
// it became the container process. It is a maximum over processes, not a
// sum.
func peakRSS(r *runner, id, bundle string) (float64, error) {
	if err := r.errf.Truncate(0); err != nil {
		return 0, err
	}
	args := []string{"run", "--bundle", bundle, id}
	cmd := r.command(args...)
	if err := cmd.Run(); err != nil {
		return 0, r.failed(args, err)
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return 0, fmt.Errorf("%s run: no rusage", r.rt.Name)
	}
	return float64(ru.Maxrss) * 1024, nil
}
