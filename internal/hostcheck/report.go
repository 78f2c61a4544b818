package hostcheck

// Check is one probed feature: one row of the table, one element of the
// JSON's checks. Keys and names are stable; Facts holds the probe's
// findings as a struct of its own per check.
type Check struct {
	Name     string `json:"name"`
	Required bool   `json:"required"`
	OK       bool   `json:"ok"`
	// Host says what the host offers, Berth what berth does with it; one
	// line each.
	Host  string `json:"host"`
	Berth string `json:"berth"`
	Facts any    `json:"facts,omitempty"`
}

// Status is the check's one-word verdict for the table.
func (c Check) Status() string {
	switch {
	case c.OK:
		return "ok"
	case c.Required:
		return "missing"
	default:
		return "no"
	}
}

// Report is the whole preflight. OK is false when a required check failed;
// Missing names those checks.
type Report struct {
	OK      bool     `json:"ok"`
	Missing []string `json:"missing"`
	Checks  []Check  `json:"checks"`
}

// probes are run in this order, which is the order of the table.
var probes = []func() Check{
	checkKernel,
	checkCgroups,
	checkSystemd,
	checkSeccomp,
	checkNamespaces,
	checkUserNamespaces,
	checkIDMappedMounts,
	checkOpenat2,
	checkPidfd,
	checkCloseRange,
	checkMemfdSealing,
	checkOverlaySealing,
	checkCRIU,
	checkAppArmor,
	checkSELinux,
}

// Run probes the host.
func Run() Report { return run(probes) }

func run(probes []func() Check) Report {
	r := Report{OK: true, Missing: []string{}, Checks: []Check{}}
	for _, probe := range probes {
		c := probe()
		if c.Required && !c.OK {
			r.OK = false
			r.Missing = append(r.Missing, c.Name)
		}
		r.Checks = append(r.Checks, c)
	}
	return r
}
