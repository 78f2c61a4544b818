# berth — see README.md. Every target that needs packages installs them.
GO      ?= $(shell command -v go 2>/dev/null || echo /usr/local/go/bin/go)
VERSION ?= 0.1.0
COMMIT  ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
# A static binary (libseccomp.a, glibc's libc.a), stripped of the symbol
# table and DWARF: every berth process, and each container's init, starts
# without the dynamic loader (~1.2 ms per process on the development VM,
# docs/performance.md). netgo and osusergo keep glibc's NSS out, which a
# static binary cannot load.
LDFLAGS := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT) -linkmode external -extldflags -static
# urfave_cli_no_docs drops the man-page generator, whose markdown parser costs
# ~8 ms of package init on every berth invocation.
TAGS    := urfave_cli_no_docs,netgo,osusergo
TESTPKGS ?= ./...
# The C tests (libcontainer/executor/ctest) #include the executor's C files
# from the directory above, which Go's build cache does not track: a change
# to one of them alone could reuse a stale test object. Their hash in
# CGO_CFLAGS, part of the cache key, makes every change rebuild them.
CSRC_HASH := $(shell cat libcontainer/executor/*.c libcontainer/executor/*.h 2>/dev/null | sha256sum | cut -c1-16)
TEST_CGO_CFLAGS := -g -O2 -DBERTH_CSRC_HASH=$(CSRC_HASH)
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.7.0

.PHONY: all build deps demo test unit lint clean soak

all: build

deps:
	@scripts/install-deps.sh

build: deps
	$(GO) build -trimpath -tags $(TAGS) -ldflags "$(LDFLAGS)" -o bin/berth ./cmd/berth

demo: build
	@scripts/demo.sh

# berth side by side with runc and crun (docs/performance.md): a markdown
# table on stdout, JSON in bench/results/. bench-smoke runs each case once.
BENCH_PEERS := runc crun hyperfine
.PHONY: bench bench-smoke
bench: build
	@scripts/install-deps.sh $(BENCH_PEERS)
	$(GO) run ./bench -berth bin/berth

bench-smoke: build
	@scripts/install-deps.sh $(BENCH_PEERS)
	$(GO) run ./bench -berth bin/berth -smoke

# unit + integration + end-to-end tests (root needed for the last two).
test: build lint fuzz-smoke
	BERTH_BIN=$(CURDIR)/bin/berth CGO_CFLAGS='$(TEST_CGO_CFLAGS)' $(GO) test -count=1 -p 1 -timeout 60m $(TESTPKGS)

# The tests on a pure cgroup v2 host with systemd as pid 1: a Debian 12 guest
# under QEMU, built from Debian packages and cached by their versions
# (docs/vmtest.md). The suites run with the cgroupfs driver, then the e2e
# suite and the ctr scenarios again with every container under
# --systemd-cgroup. vmtest is CI's
# subset (VMTEST_CI_RUN); vmtest-full runs every test. VMTEST_RUN=regexp
# picks tests by name; VMTEST_SHELL=1 boots the guest to a shell instead.
VMTEST_RUN ?=
VMTEST_CI_PKGS ?= tests tests/clients
# What differs on that host: every test that reads or sets cgroups, the
# systemd driver, the lifecycle and kill paths that go through the cgroup,
# the cgroup mount and namespace, the device filter, exec into the cgroup;
# AppArmor (on in the guest only) and containerd's ctr under both drivers;
# the rootless tests (a lingering user's delegated cgroup v2 subtree, its
# systemd over the user bus).
VMTEST_CI_RUN ?= ^(TestSystemdDriver|TestSystemdResourceProperties|TestSystemdUnresponsive|TestSystemdHungAfterCreate|TestLifecycle|TestRunExitCodes|TestRunDetachAndPidFile|TestDeleteForceRunning|TestCgroupsPath|TestCgroupsPathRelative|TestCgroupNamespace|TestPureCgroup2Host|TestDefaultMountTable|TestDevices|TestDeviceDenied|TestResourcesAtCreate|TestResourcesBadConfig|TestUpdate|TestOOMKillEvents|TestPidsLimitForkBomb|TestPauseResume|TestPs|TestEventsStats|TestKillAll|TestKillAllReachesChildren|TestExecSubCgroup|TestExecOutputAndExitCodes|TestFastopsLifecycle|TestFastopsLeftovers|TestFastopsBusyLock|TestRunLoopReturnsAtOnce|TestKillStopped|TestKillNoPidNamespace|TestKillZero|TestCgroupPreFrozenRefused|TestCgroupNotEmptyRefused|TestDeviceNodeNotImplicitlyAllowed|TestUpdateFlagsAfterID|TestAppArmorProfileConfines|TestAppArmorExec|TestAppArmorProfileNotLoaded|TestContainerd|TestPidsLimitZero|TestUpdateCPUIdle|TestExecCPUAffinity|TestCPUIdle|TestBlockIOLimits|TestEventsStatsPSI|TestRootless.*)$$
.PHONY: vmtest vmtest-full
vmtest: build
	VMTEST_PKGS='$(VMTEST_CI_PKGS)' VMTEST_SYSTEMD_PKGS='$(VMTEST_CI_PKGS)' VMTEST_RUN='$(or $(VMTEST_RUN),$(VMTEST_CI_RUN))' scripts/vmtest/vmtest.sh

vmtest-full: build
	VMTEST_RUN='$(VMTEST_RUN)' scripts/vmtest/vmtest.sh

# the long form of the crash, race and leak tests: 1,000 soak cycles and 10
# crashes per trace point (make test runs them short). Prints the soak's
# before/after counts.
soak: build
	BERTH_BIN=$(CURDIR)/bin/berth BERTH_SOAK=1000 BERTH_CRASH_ROUNDS=10 $(GO) test -count=1 -p 1 -timeout 3h -v \
		-run 'TestSoak|TestCrashConsistency|TestConcurrent|TestParallelCreate32|TestLockTimeout' ./tests/

# Fuzz targets, as package:Function. `make fuzz` runs each for FUZZTIME and
# `make test` for FUZZSMOKE; a failing input lands in the package's
# testdata/fuzz/ (commit it with the fix, as a regression seed). TMPDIR is a
# tmpfs: the fuzzer's shared-memory file stalls on disk writeback under load.
# New-coverage inputs are minimized for at most 1s (default 60s, which would
# eat a short run whole).
FUZZ_TARGETS := specconv:FuzzLoad specconv:FuzzParseProcess libcontainer:FuzzDecodeState \
	libcontainer:FuzzValidateID cmd/berth:FuzzParseSignal \
	libcontainer/executor/ctest:FuzzWireCheck libcontainer/executor/ctest:FuzzPlan libcontainer/executor/ctest:FuzzHooks \
	libcontainer/executor/ctest:FuzzBootstrap libcontainer/executor/ctest:FuzzSyncParse \
	libcontainer/executor/ctest:FuzzBrief libcontainer/executor/ctest:FuzzParseGlobals \
	libcontainer/executor/ctest:FuzzFailRender libcontainer/executor/ctest:FuzzFailText \
	libcontainer/executor/ctest:FuzzSyncSpans
# The smoke budget is a count of inputs, not a duration: with a duration,
# Go 1.26's fuzz coordinator can fail a target with a bare "context deadline
# exceeded" when its workers are slow at the deadline (go.dev/issue/75804,
# fixed in Go 1.27); it hit CI once under load. A count has no deadline.
FUZZTIME  ?= 10s
FUZZSMOKE ?= 3000x
FUZZTMP   ?= /dev/shm
.PHONY: fuzz fuzz-smoke

fuzz: deps
	@for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; fn=$${t##*:}; echo "fuzz: $$pkg $$fn for $(FUZZTIME)"; \
		TMPDIR=$(FUZZTMP) CGO_CFLAGS='$(TEST_CGO_CFLAGS)' $(GO) test -tags $(TAGS) -run '^$$' -fuzz "^$$fn\$$" -fuzztime $(FUZZTIME) \
			-fuzzminimizetime 1s ./$$pkg || exit 1; \
	done

fuzz-smoke:
	@$(MAKE) --no-print-directory fuzz FUZZTIME=$(FUZZSMOKE)

# The Go↔C schema's generated files (internal/wire) must be what `go
# generate ./internal/wire` writes now: regenerate into a temporary
# directory and compare.
WIRE_GEN := internal/wire/wire_gen.go libcontainer/executor/wire_gen.h libcontainer/executor/wire_gen.c
.PHONY: lint-generated
lint-generated:
	@tmp=$$(mktemp -d) && $(GO) run ./internal/wire/gen -go $$tmp/wire_gen.go -c $$tmp/wire_gen && \
	rc=0 && for f in $(WIRE_GEN); do diff -u $$f $$tmp/$$(basename $$f) || rc=1; done; rm -rf $$tmp; \
	test $$rc = 0 || { echo "wire: generated files are stale: run go generate ./internal/wire"; exit 1; }

lint: lint-generated
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt: files above need formatting"; exit 1; }
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) -tags $(TAGS) ./...

# The Kubernetes CRI validation suite (critest v1.37.0) under containerd, with
# runc and then with berth, in one run; long, so not part of `make test`.
# Prints the counts and the tests berth fails where runc passes; raw reports
# in critest-results/ (docs/clients.md, "critest").
.PHONY: critest
critest: build
	@scripts/critest/run.sh

clean:
	rm -rf bin
