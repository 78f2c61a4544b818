package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/berthrun/berth/internal/hostscan"
)

// procMemory is what /proc/<pid>/status says about a process's resident
// memory, in bytes. RSS counts shared pages (the binary's text, shared
// libraries) in full; anon is what the process alone costs.
type procMemory struct {
	RSS  uint64
	Anon uint64
}

// readProcMemory reads VmRSS and RssAnon of pid.
func readProcMemory(pid int) (procMemory, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return procMemory{}, err
	}
	defer f.Close()
	return parseStatus(f.Name(), f)
}

// parseStatus picks VmRSS and RssAnon (in kB) out of a /proc/<pid>/status.
func parseStatus(name string, r io.Reader) (procMemory, error) {
	var m procMemory
	var seen int
	s := bufio.NewScanner(r)
	for s.Scan() {
		key, val, ok := strings.Cut(s.Text(), ":")
		if !ok || (key != "VmRSS" && key != "RssAnon") {
			continue
		}
		fields := strings.Fields(val)
		if len(fields) != 2 || fields[1] != "kB" {
			return m, fmt.Errorf("%s: unexpected %q", name, s.Text())
		}
		kb, err := strconv.ParseUint(fields[0], 10, 64)
		if err != nil {
			return m, fmt.Errorf("%s: %w", name, err)
		}
		if key == "VmRSS" {
			m.RSS = kb * 1024
		} else {
			m.Anon = kb * 1024
		}
		seen++
	}
	if err := s.Err(); err != nil {
		return m, err
	}
	if seen != 2 {
		return m, fmt.Errorf("%s: no VmRSS or RssAnon (a kernel thread or a zombie?)", name)
	}
	return m, nil
}

// containerMemory is the memory a created container keeps: its waiting
// init plus every other live process of this run (they carry the tag), such
// as a parent that stays behind. It returns the sum and how many processes
// it counted.
func containerMemory(initPid int, tag string) (procMemory, int, error) {
	pids := []int{initPid}
	for _, p := range hostscan.PidsWithEnv(tagVar + "=" + tag) {
		if p != initPid {
			pids = append(pids, p)
		}
	}
	var sum procMemory
	for _, p := range pids {
		m, err := readProcMemory(p)
		if err != nil {
			return sum, 0, err
		}
		sum.RSS += m.RSS
		sum.Anon += m.Anon
	}
	return sum, len(pids), nil
}
