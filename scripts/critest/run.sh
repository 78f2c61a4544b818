#!/usr/bin/env bash
# run.sh: `make critest`. Runs the Kubernetes CRI validation suite (critest
# from cri-tools v1.37.0) against Debian's containerd 1.6 twice in one go:
# first with Debian's runc, then with berth as the runc binary, and prints
# the counts of each and the tests berth fails where runc passes.
#
# Everything lives in one temporary directory: containerd's root, state and
# socket, the runtimes' --root, the CNI config and IPAM store, the local
# registry and its storage. The host's /run/containerd (except the shims'
# sockets in /run/containerd/s, which the shim puts there whatever the
# config), /run/berth and /etc are not touched. A trap on exit and on
# interruption stops what was started and removes what was made.
#
# Environment:
#   BERTH_BIN          berth binary (default: bin/berth of this checkout)
#   CRITEST_RUNTIMES   runtimes to run, in order (default: "runc berth")
#   CRITEST_RESULTS    results directory (default: critest-results/<UTC time>)
#   CRITEST_FOCUS      a ginkgo focus regexp, to run part of the suite
#   CRITEST_CACHE      where critest and crictl are built (default: ~/.cache/berth-critest)
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
here=$repo/scripts/critest
berth=${BERTH_BIN:-$repo/bin/berth}
runtimes=${CRITEST_RUNTIMES:-runc berth}
results=${CRITEST_RESULTS:-$repo/critest-results/$(date -u +%Y%m%dT%H%M%SZ)}
cache=${CRITEST_CACHE:-${HOME:-/root}/.cache/berth-critest}
cri_tools=sigs.k8s.io/cri-tools@v1.37.0
GO=${GO:-$(command -v go || echo /usr/local/go/bin/go)}

if [[ $(id -u) -ne 0 ]]; then
	echo "critest: needs root (containerd, CNI, mounts)" >&2
	exit 1
fi
[[ -x $berth ]] || { echo "critest: no berth binary at $berth (make build)" >&2; exit 1; }
berth=$(readlink -f "$berth")

# --- dependencies, all from Debian -----------------------------------------
"$repo/scripts/install-deps.sh" containerd runc containernetworking-plugins docker-registry \
	skopeo iptables util-linux curl jq gcc libc6-dev

# --- critest and crictl, built from the module once per cache ---------------
# critest is a test binary (cmd/critest has only _test.go files), so it is
# built with `go test -c`; `go install` cannot build it.
mkdir -p "$cache"
critest=$cache/critest-v1.37.0
crictl=$cache/crictl-v1.37.0
if [[ ! -x $critest || ! -x $crictl ]]; then
	dir=$("$GO" mod download -json "$cri_tools" | jq -r .Dir)
	echo "critest: building $cri_tools into $cache"
	(cd "$dir" && GOFLAGS=-buildvcs=false "$GO" test -c -o "$critest.tmp" ./cmd/critest &&
		GOFLAGS=-buildvcs=false "$GO" build -o "$crictl.tmp" ./cmd/crictl)
	mv "$critest.tmp" "$critest"
	mv "$crictl.tmp" "$crictl"
fi

# --- the private world ------------------------------------------------------
tmp=$(mktemp -d /tmp/berth-critest.XXXXXX)
mkdir -p "$results"
results=$(cd "$results" && pwd)
registry_pid=
containerd_pid=
critest_pid=
bridge=
network=
current=

# free_port: a TCP port nothing listens on, from a range of our own.
free_port() {
	local p
	for _ in $(seq 100); do
		p=$((20000 + RANDOM % 10000))
		if [[ -z $(ss -Hltn "sport = :$p") ]]; then
			echo "$p"
			return
		fi
	done
	echo "critest: no free port" >&2
	return 1
}

# our_pids: processes whose command line names our temporary directory:
# containerd, the shims it started (their -address is our socket), and the
# registry. Nothing else on the host can name it.
our_pids() {
	local d
	for d in /proc/[0-9]*; do
		if { tr '\0' ' ' <"$d/cmdline"; } 2>/dev/null | grep -qF "$tmp/"; then
			echo "${d#/proc/}"
		fi
	done
}

# teardown_runtime NAME: remove every pod (CNI DEL frees its address and
# port mappings), stop containerd, then whatever its shims and the runtime
# left: leftover containers through the runtime's own delete, shim
# processes by pid, mounts under the run's directory.
teardown_runtime() {
	local name=$1 dir=$tmp/$1 bin root id pid
	[[ -d $dir ]] || return 0
	if [[ -n $containerd_pid ]] && kill -0 "$containerd_pid" 2>/dev/null; then
		timeout 120 "$crictl" --runtime-endpoint "unix://$dir/containerd.sock" rmp -fa >/dev/null 2>&1 || true
		kill -TERM "$containerd_pid" 2>/dev/null || true
		for _ in $(seq 50); do
			kill -0 "$containerd_pid" 2>/dev/null || break
			sleep 0.2
		done
		kill -KILL "$containerd_pid" 2>/dev/null || true
		wait "$containerd_pid" 2>/dev/null || true
	fi
	containerd_pid=
	root=$dir/runtime-root/k8s.io
	bin=$(runtime_bin "$name")
	if [[ -d $root ]]; then
		for id in $("$bin" --root "$root" list -q 2>/dev/null); do
			"$bin" --root "$root" delete --force "$id" >/dev/null 2>&1 || true
		done
	fi
	for pid in $(our_pids); do
		[[ $pid == "$registry_pid" || $pid == "$$" ]] && continue
		kill -KILL "$pid" 2>/dev/null || true
	done
	unmount_under "$dir"
}

# unmount_under DIR: unmount everything mounted below DIR, deepest first.
unmount_under() {
	local m
	for m in $(awk -v d="$1/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo | sort -r); do
		umount -l "$m" 2>/dev/null || true
	done
}

# remove_nat_rules: the NAT rules of pods whose CNI DEL never ran (a run
# killed while a runtime could not stop its pods). The bridge plugin's
# masquerade and portmap's DNAT rules carry a comment naming our network,
# and their per-pod chains are named CNI-<hash>; portmap's three shared
# CNI-HOSTPORT-* chains are left, as the plugin leaves them.
remove_nat_rules() {
	local rules rule chains chain
	rules=$(iptables -w -t nat -S 2>/dev/null | grep -F "\\\"$network\\\"") || return 0
	chains=$(awk '{ for (i = 1; i < NF; i++) if ($i == "-A" || $i == "-j") print $(i + 1) }' <<<"$rules" |
		grep '^CNI-' | grep -v '^CNI-HOSTPORT-' | sort -u) || true
	while read -r rule; do
		# The rule is printed in iptables-save's quoting: eval gives back its words.
		eval "iptables -w -t nat -D ${rule#-A }" 2>/dev/null || true
	done <<<"$rules"
	for chain in $chains; do
		iptables -w -t nat -F "$chain" 2>/dev/null || true
		iptables -w -t nat -X "$chain" 2>/dev/null || true
	done
}

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	# The terminal or pipe we print to may be gone (Ctrl-C in `make critest |
	# tee`): a write must not kill the cleanup half-way.
	trap "" PIPE
	exec >>"$results/cleanup.log" 2>&1
	if [[ -n $critest_pid ]]; then
		kill -TERM "$critest_pid" 2>/dev/null || true
		wait "$critest_pid" 2>/dev/null || true
	fi
	[[ -n $current ]] && teardown_runtime "$current"
	if [[ -n $registry_pid ]]; then
		kill -TERM "$registry_pid" 2>/dev/null || true
		wait "$registry_pid" 2>/dev/null || true
	fi
	[[ -n $bridge ]] && ip link del "$bridge" 2>/dev/null || true
	[[ -n $network ]] && remove_nat_rules
	unmount_under "$tmp"
	rm -rf "$tmp"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

runtime_bin() {
	case $1 in
	runc) command -v runc ;;
	berth) echo "$berth" ;;
	*)
		echo "critest: unknown runtime $1" >&2
		return 1
		;;
	esac
}

# --- the local registry -----------------------------------------------------
port=$(free_port)
registry=127.0.0.1:$port
mkdir -p "$tmp/registry/storage"
cat >"$tmp/registry/config.yml" <<EOF
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $tmp/registry/storage
  delete:
    enabled: true
http:
  addr: $registry
EOF
setsid docker-registry serve "$tmp/registry/config.yml" >"$results/registry.log" 2>&1 &
registry_pid=$!
for _ in $(seq 100); do
	curl -fs "http://$registry/v2/" >/dev/null && break
	kill -0 "$registry_pid" 2>/dev/null || { cat "$results/registry.log" >&2; exit 1; }
	sleep 0.1
done
"$here/images.sh" "$tmp/images" "$registry"

# --- CNI: a bridge and a subnet of our own ----------------------------------
bridge=bcrit$(printf '%04x' $((RANDOM % 65536)))
# The network name is in the comment of every NAT rule the plugins add: one
# of our own lets the cleanup find the rules of this run, and no other.
network=berth-critest-$bridge
subnet=
for _ in $(seq 50); do
	candidate=10.$((200 + RANDOM % 50)).$((RANDOM % 256)).0/24
	if ! ip route | grep -qF "${candidate%.0/24}."; then
		subnet=$candidate
		break
	fi
done
[[ -n $subnet ]] || { echo "critest: no free 10.x subnet" >&2; exit 1; }
mkdir -p "$tmp/cni/net.d" "$tmp/cni/ipam"
cat >"$tmp/cni/net.d/10-berth-critest.conflist" <<EOF
{
  "cniVersion": "0.4.0",
  "name": "$network",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$bridge",
      "isGateway": true,
      "ipMasq": true,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "dataDir": "$tmp/cni/ipam",
        "ranges": [[{"subnet": "$subnet"}]],
        "routes": [{"dst": "0.0.0.0/0"}]
      }
    },
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
EOF
echo "critest: registry $registry, bridge $bridge, subnet $subnet, work dir $tmp"

# --- one containerd per runtime ---------------------------------------------
# write_config NAME: containerd 1.6's config for a run with runtime NAME as
# the binary of the default runc handler. The registry hosts critest names
# are mirrored to the local registry, over plain HTTP.
write_config() {
	local name=$1 dir=$tmp/$1 bin mirrors="" host
	bin=$(runtime_bin "$name")
	for host in registry.k8s.io k8s.gcr.io gcr.io; do
		mirrors+="[plugins.\"io.containerd.grpc.v1.cri\".registry.mirrors.\"$host\"]
  endpoint = [\"http://$registry\"]
"
	done
	cat >"$dir/config.toml" <<EOF
version = 2
root = "$dir/root"
state = "$dir/state"
[grpc]
  address = "$dir/containerd.sock"
[debug]
  level = "debug"
[plugins."io.containerd.internal.v1.opt"]
  path = "$dir/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "registry.k8s.io/pause:3.9"
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false
  # Containers may not go below containerd's own oom_score_adj (the sandbox
  # asks for -998): lowering it needs CAP_SYS_RESOURCE, which root lacks on
  # some hosts (the development VM). Same for both runtimes.
  restrict_oom_score_adj = true
[plugins."io.containerd.grpc.v1.cri".cni]
  bin_dir = "/usr/lib/cni"
  conf_dir = "$tmp/cni/net.d"
[plugins."io.containerd.grpc.v1.cri".containerd]
  default_runtime_name = "runc"
[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"
[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
  BinaryName = "$bin"
  Root = "$dir/runtime-root"
  SystemdCgroup = false
$mirrors
EOF
}

start=$(date +%s)
for name in $runtimes; do
	dir=$tmp/$name
	out=$results/$name
	mkdir -p "$dir" "$out"
	write_config "$name"
	current=$name
	# setsid: a Ctrl-C on the terminal must not kill containerd before the
	# cleanup has asked it to remove the pods.
	setsid containerd --config "$dir/config.toml" >"$out/containerd.log" 2>&1 &
	containerd_pid=$!
	for _ in $(seq 150); do
		"$crictl" --runtime-endpoint "unix://$dir/containerd.sock" info >/dev/null 2>&1 && break
		kill -0 "$containerd_pid" 2>/dev/null || { tail -20 "$out/containerd.log" >&2; exit 1; }
		sleep 0.2
	done

	echo "critest: $name: running (log: $out/critest.log)"
	t0=$(date +%s)
	args=(
		-runtime-endpoint "unix://$dir/containerd.sock"
		-image-endpoint "unix://$dir/containerd.sock"
		# One attempt per test, and one test at a time: critest's -parallel
		# defaults to 1, and ginkgo refuses the flag when it is given at all.
		-ginkgo.flake-attempts=1
		-ginkgo.no-color
		-ginkgo.json-report="$out/report.json"
		-ginkgo.junit-report="$out/junit.xml"
		# No test may hang the run: a CRI call that takes over two minutes
		# fails its test, and the whole suite stops after 90 minutes.
		-runtime-service-timeout=2m
		-image-service-timeout=2m
		-ginkgo.timeout=90m
	)
	[[ -n ${CRITEST_FOCUS:-} ]] && args+=(-ginkgo.focus="$CRITEST_FOCUS")
	# In the background, and waited for: a Ctrl-C then runs our trap at once.
	# critest in the foreground would catch the SIGINT itself and exit
	# normally, and bash, seeing that, drops the signal and goes on to the next
	# runtime. critest exits non-zero when any test fails; the report says which.
	"$critest" "${args[@]}" >"$out/critest.log" 2>&1 &
	critest_pid=$!
	wait "$critest_pid" || true
	critest_pid=
	echo "$(($(date +%s) - t0))" >"$out/seconds"
	echo "critest: $name: done in $(cat "$out/seconds")s"

	teardown_runtime "$name"
	current=
done
echo "critest: total $(($(date +%s) - start))s; results in $results"
echo
"$here/report.sh" "$results" $runtimes | tee "$results/summary.md"
