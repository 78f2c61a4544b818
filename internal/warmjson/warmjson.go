// Package warmjson builds encoding/json's decoders and encoders for the OCI
// spec types on the second core while berth starts up.
//
// Nearly every berth command decodes a config or a state.json that embeds
// one. The first decode of a specs.Spec costs ~3 ms on the development VM,
// almost all of it encoding/json reflecting over the spec's types to build
// its per-type caches; a second decode of the same document takes ~0.1 ms
// (docs/performance.md). Those caches are process-wide and safe for
// concurrent use, so this package's init starts a goroutine that decodes a
// skeleton touching every commonly present type while the rest of the
// program initialises and parses its command line. It changes no result:
// the same caches would be built on first use anyway.
//
// Import it for its side effect only, as early as possible (its import path
// sorts before the packages that are slow to initialise).
package warmjson

import (
	"encoding/json"
	"os"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// skeleton holds one of each struct a config usually has, so decoding it
// reaches each of those types once.
const skeleton = `{"process":{"user":{"additionalGids":[0]},"args":[""],"env":[""],
"capabilities":{"bounding":[""]},"rlimits":[{"type":""}],"consoleSize":{}},
"root":{},"mounts":[{"options":[""]}],"hooks":{"prestart":[{"args":[""]}]},"annotations":{"a":""},
"linux":{"namespaces":[{}],"uidMappings":[{}],"gidMappings":[{}],"devices":[{}],
"maskedPaths":[""],"readonlyPaths":[""],"sysctl":{"a":""},
"resources":{"devices":[{"allow":true}],"memory":{},"cpu":{},"pids":{},
"blockIO":{"weightDevice":[{}]},"hugepageLimits":[{}],"network":{}},
"seccomp":{"architectures":[""],"syscalls":[{"names":[""],"args":[{}]}]}}}`

// Done is closed when the caches are built (for the tests).
var Done = make(chan struct{})

// SkipEnv, set to "1" in a process's environment, turns the warm-up off. The
// parent sets it for the C init's rootfs helper (libcontainer/rootfs_job.go),
// which decodes no spec: there the warm-up would only take CPU, page faults
// and heap from the container's start, and lengthen the helper's exit.
const SkipEnv = "_BERTH_NO_WARMJSON"

func init() {
	if os.Getenv(SkipEnv) == "1" {
		close(Done)
		return
	}
	go warm()
}

func warm() {
	defer close(Done)
	var s specs.Spec
	if json.Unmarshal([]byte(skeleton), &s) == nil {
		json.Marshal(&s)
	}
}
