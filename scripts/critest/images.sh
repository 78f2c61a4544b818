#!/usr/bin/env bash
# images.sh WORKDIR REGISTRY: build every image critest v1.37.0 pulls, from
# Debian's busybox (the package, unpacked, not installed) and two small C
# programs compiled here, and push them to the plain-HTTP registry REGISTRY
# (host:port). There is no internet on the test hosts, so nothing is pulled
# from anywhere.
#
# The names are the ones critest asks for, without their registry host
# (registry.k8s.io, gcr.io, k8s.gcr.io): containerd is configured with
# REGISTRY as the mirror of those hosts, so a pull of
# registry.k8s.io/e2e-test-images/busybox:1.29-2 fetches
# REGISTRY/e2e-test-images/busybox:1.29-2. docs/clients.md ("critest") says
# what each image holds and which tests use it.
#
# Every layer is built reproducibly (sorted entries, fixed mtime, root
# owner), so the same content always has the same digest.
set -euo pipefail

work=$1
registry=$2
here=$(cd "$(dirname "$0")" && pwd)

rm -rf "$work"
mkdir -p "$work"

# skopeo refuses to copy without a trust policy; this one is ours alone, so
# the host's /etc/containers/policy.json is neither needed nor read.
policy=$work/policy.json
echo '{"default":[{"type":"insecureAcceptAnything"}]}' >"$policy"

# layer DIR OUT: a gzipped tar of DIR's contents as a reproducible layer.
# Prints the digest of the uncompressed tar (the diff_id).
layer() {
	local dir=$1 out=$2
	tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner \
		--format=gnu -C "$dir" -cf "$out.tar" .
	sha256sum <"$out.tar" | cut -d' ' -f1
	gzip -n -c "$out.tar" >"$out"
	rm -f "$out.tar"
}

# blob LAYOUT FILE: store FILE in the OCI layout's blob store; print its digest.
blob() {
	local layout=$1 file=$2 sum
	sum=$(sha256sum <"$file" | cut -d' ' -f1)
	mkdir -p "$layout/blobs/sha256"
	cp "$file" "$layout/blobs/sha256/$sum"
	echo "$sum"
}

# image CONFIG_JSON LAYER... -- NAME:TAG...: write an OCI layout whose image
# has the given container config (a JSON object: User, Env, Cmd, ...) over
# the given layers, and push it under every NAME:TAG.
image() {
	local config=$1
	shift
	local layers=() refs=()
	while [[ $1 != -- ]]; do
		layers+=("$1")
		shift
	done
	shift
	refs=("$@")

	local layout diff_ids="[]" descs="[]" l sum
	layout=$(mktemp -d "$work/layout.XXXXXX")
	echo '{"imageLayoutVersion":"1.0.0"}' >"$layout/oci-layout"
	for l in "${layers[@]}"; do
		sum=$(blob "$layout" "$l")
		diff_ids=$(jq -c --arg d "sha256:$(cat "$l.diffid")" '. + [$d]' <<<"$diff_ids")
		descs=$(jq -c --arg d "sha256:$sum" --argjson s "$(stat -c %s "$l")" \
			'. + [{mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: $d, size: $s}]' <<<"$descs")
	done

	jq -n --argjson c "$config" --argjson ids "$diff_ids" \
		'{architecture: "amd64", os: "linux", config: $c, rootfs: {type: "layers", diff_ids: $ids}}' \
		>"$layout/config.json"
	local csum msum
	csum=$(blob "$layout" "$layout/config.json")
	jq -n --arg d "sha256:$csum" --argjson s "$(stat -c %s "$layout/config.json")" --argjson l "$descs" \
		'{schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json",
		  config: {mediaType: "application/vnd.oci.image.config.v1+json", digest: $d, size: $s},
		  layers: $l}' >"$layout/manifest.json"
	msum=$(blob "$layout" "$layout/manifest.json")
	jq -n --arg d "sha256:$msum" --argjson s "$(stat -c %s "$layout/manifest.json")" \
		'{schemaVersion: 2, manifests: [{mediaType: "application/vnd.oci.image.manifest.v1+json", digest: $d, size: $s}]}' \
		>"$layout/index.json"

	local ref
	for ref in "${refs[@]}"; do
		skopeo --policy "$policy" copy --quiet --dest-tls-verify=false \
			"oci:$layout" "docker://$registry/$ref"
		echo "  pushed $registry/$ref"
	done
}

# mklayer NAME: build the layer from directory $work/NAME into
# $work/NAME.tar.gz (and its diff_id beside it); print the layer's path.
mklayer() {
	local out=$work/$1.tar.gz
	layer "$work/$1" "$out" >"$out.diffid"
	echo "$out"
}

path_env='"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"'

# --- the busybox base layer -------------------------------------------------
# Debian's busybox package, not busybox-static: the static build has
# FEATURE_SH_STANDALONE, whose sh runs applets without looking in PATH, and
# critest's MaskedPaths test needs `sh -c ls` to fail on a masked /bin/ls
# with "/bin/sh: ls: Permission denied", as with upstream's busybox. The
# package conflicts with busybox-static, so it is downloaded and unpacked
# here, not installed; the C libraries it links come from the host (the same
# Debian release). Every applet is a hard link (as upstream: a bind mount
# over a symbolic link /bin/ls would mask busybox itself, and sh with it).
# The users and groups are the upstream busybox image's (www-data is uid and
# gid 33, as there), plus the two commands critest runs that Debian's busybox
# lacks (ipcs, pgrep).
base=$work/base
mkdir -p "$base"/{bin,sbin,usr/bin,usr/sbin,etc,root,tmp,home,var/run,proc,sys,dev}
chmod 1777 "$base/tmp"
chmod 700 "$base/root"
mkdir -p "$work/deb"
# APT::Sandbox::User=root: apt's _apt user cannot write our directory.
if ! (cd "$work/deb" && apt-get -qq -o APT::Sandbox::User=root download busybox); then
	apt-get update -qq
	(cd "$work/deb" && apt-get -qq -o APT::Sandbox::User=root download busybox)
fi
dpkg-deb -x "$work"/deb/busybox_*.deb "$work/deb/root"
busybox=$work/deb/root/bin/busybox
cp "$busybox" "$base/bin/busybox"
for lib in $(ldd "$busybox" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'); do
	mkdir -p "$base$(dirname "$lib")"
	cp -L "$lib" "$base$lib"
done
for applet in $("$busybox" --list-full); do
	[[ -e $base/$applet ]] || ln "$base/bin/busybox" "$base/$applet"
done
cat >"$base/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
bin:x:2:2:bin:/bin:/bin/false
sys:x:3:3:sys:/dev:/bin/false
sync:x:4:100:sync:/bin:/bin/sync
mail:x:8:8:mail:/var/spool/mail:/bin/false
www-data:x:33:33:www-data:/var/www:/bin/false
operator:x:37:37:Operator:/var:/bin/false
nobody:x:65534:65534:nobody:/home:/bin/false
EOF
cat >"$base/etc/group" <<'EOF'
root:x:0:
daemon:x:1:
bin:x:2:
sys:x:3:
adm:x:4:
tty:x:5:
disk:x:6:
wheel:x:10:root
mail:x:12:mail
www-data:x:33:
operator:x:37:
users:x:100:
nogroup:x:65534:
EOF
# ipcs -m: critest's HostIpc tests look for a segment id they created on the
# host; /proc/sysvipc/shm lists the segments of the caller's IPC namespace.
cat >"$base/bin/ipcs" <<'EOF'
#!/bin/sh
# Stand-in for util-linux ipcs (Debian's busybox has none): lists the shared
# memory segments of this IPC namespace, whatever the flags.
echo "------ Shared Memory Segments --------"
echo "key        shmid      owner      perms      bytes      nattch"
while read -r key shmid perms size cpid lpid nattch uid rest; do
	[ "$key" = key ] && continue
	printf '%-10s %-10s %-10s %-10s %-10s %s\n' "$key" "$shmid" "$uid" "$perms" "$size" "$nattch"
done </proc/sysvipc/shm
EOF
# pgrep NAME: critest checks that a timed-out exec's process is gone.
cat >"$base/usr/bin/pgrep" <<'EOF'
#!/bin/sh
# Stand-in for pgrep NAME (Debian's busybox has none): the pids whose
# command name is NAME; exit status 1 when there is none, as pgrep's.
found=1
for d in /proc/[0-9]*; do
	read -r comm <"$d/comm" 2>/dev/null || continue
	if [ "$comm" = "$1" ]; then
		echo "${d#/proc/}"
		found=0
	fi
done
exit $found
EOF
chmod 755 "$base/bin/ipcs" "$base/usr/bin/pgrep"
base_layer=$(mklayer base)

echo "critest images -> $registry"
image "{\"Env\":[$path_env],\"Cmd\":[\"sh\"]}" "$base_layer" -- \
	e2e-test-images/busybox:1.29-2

# --- pause: the sandbox image (containerd's sandbox_image) ------------------
mkdir -p "$work/pause"
gcc -static -Os -s -o "$work/pause/pause" "$here/pause.c"
# 65535:65535, as the upstream pause image: the sandbox needs no privilege.
image '{"User":"65535:65535","Entrypoint":["/pause"]}' "$(mklayer pause)" -- pause:3.9

# --- nginx stand-ins --------------------------------------------------------
# critest's namespace tests need a process named "nginx" (pidof nginx) whose
# pid is in /var/run/nginx.pid, and look for "master process" in pid 1's
# command line; its port tests need HTTP 200 from / on port 80 (12003 for the
# host-network image). A shell script named nginx (the kernel names a script's
# process after the script) runs busybox httpd and stays its parent, and
# the image's command carries "nginx: master process" as an argument.
nginx=$work/nginx
mkdir -p "$nginx/usr/sbin" "$nginx/usr/share/nginx/html" "$nginx/var/run"
cat >"$nginx/usr/sbin/nginx" <<'EOF'
#!/bin/sh
# Stand-in for nginx in critest's images: serves /usr/share/nginx/html on
# $NGINX_PORT with busybox httpd. Its arguments are only a process title.
echo $$ >/var/run/nginx.pid
httpd -f -p "${NGINX_PORT:-80}" -h /usr/share/nginx/html &
server=$!
trap 'kill "$server"; exit 0' TERM INT QUIT
wait "$server"
EOF
chmod 755 "$nginx/usr/sbin/nginx"
echo '<html><body><h1>Welcome to nginx!</h1></body></html>' >"$nginx/usr/share/nginx/html/index.html"
nginx_layer=$(mklayer nginx)
image "{\"Env\":[$path_env],\"Cmd\":[\"nginx\",\"nginx: master process\"]}" \
	"$base_layer" "$nginx_layer" -- e2e-test-images/nginx:1.14-2
image "{\"Env\":[$path_env,\"NGINX_PORT=12003\"],\"Cmd\":[\"nginx\",\"nginx: master process\"]}" \
	"$base_layer" "$nginx_layer" -- k8s-staging-cri-tools/hostnet-nginx-amd64:latest

# --- httpd: the multi-container test's web server ---------------------------
# It must answer on port 80 and write a line naming "httpd" to its log.
httpd=$work/httpd
mkdir -p "$httpd/usr/local/bin" "$httpd/usr/local/apache2/htdocs"
cat >"$httpd/usr/local/bin/httpd-foreground" <<'EOF'
#!/bin/sh
# Stand-in for Apache httpd in critest's images: busybox httpd on port 80.
echo "httpd: serving /usr/local/apache2/htdocs on port 80"
httpd -f -p 80 -h /usr/local/apache2/htdocs &
server=$!
trap 'kill "$server"; exit 0' TERM INT QUIT
wait "$server"
EOF
chmod 755 "$httpd/usr/local/bin/httpd-foreground"
echo '<html><body><h1>It works!</h1></body></html>' >"$httpd/usr/local/apache2/htdocs/index.html"
image "{\"Env\":[$path_env],\"Cmd\":[\"httpd-foreground\"]}" \
	"$base_layer" "$(mklayer httpd)" -- e2e-test-images/httpd:2.4.39-4

# --- nonewprivs: a set-user-id root program ---------------------------------
mkdir -p "$work/nonewprivs/usr/local/bin"
gcc -static -Os -s -o "$work/nonewprivs/usr/local/bin/nnp" "$here/nnp.c"
chmod 4755 "$work/nonewprivs/usr/local/bin/nnp"
image "{\"Env\":[$path_env],\"Cmd\":[\"/usr/local/bin/nnp\"]}" \
	"$base_layer" "$(mklayer nonewprivs)" -- e2e-test-images/nonewprivs:1.3

# --- images whose USER critest reads back from ImageStatus ------------------
image "{\"Env\":[$path_env],\"User\":\"1002\"}" "$base_layer" -- \
	k8s-staging-cri-tools/test-image-user-uid:latest
image "{\"Env\":[$path_env],\"User\":\"www-data\"}" "$base_layer" -- \
	k8s-staging-cri-tools/test-image-user-username:latest
image "{\"Env\":[$path_env],\"User\":\"1003:1004\"}" "$base_layer" -- \
	k8s-staging-cri-tools/test-image-user-uid-group:latest
image "{\"Env\":[$path_env],\"User\":\"www-data:1004\"}" "$base_layer" -- \
	k8s-staging-cri-tools/test-image-user-username-group:latest

# --- a user whose groups come from the image's /etc/group -------------------
# default-user (1000) is a member of group-defined-in-image (50000); the
# supplemental-groups tests expect 50000 in `id -G` only when the runtime
# merges the image's groups. The layer replaces the base's two files.
group=$work/predefined-group
mkdir -p "$group/etc" "$group/home/default-user"
cat "$base/etc/passwd" - >"$group/etc/passwd" <<'EOF'
default-user:x:1000:1000:Linux User,,,:/home/default-user:/bin/sh
EOF
cat "$base/etc/group" - >"$group/etc/group" <<'EOF'
default-user:x:1000:
group-defined-in-image:x:50000:default-user
EOF
image "{\"Env\":[$path_env],\"User\":\"1000\"}" "$base_layer" "$(mklayer predefined-group)" -- \
	k8s-staging-cri-tools/test-image-predefined-group:latest

# --- images told apart by one marker file -----------------------------------
# As upstream: busybox plus an empty file named after the image (or tag), so
# test-image-1/2/3 are three images and test-image-tags:1/2/3 one image.
# test-image-digest is pulled by the digest of the upstream manifest, which
# no image built here can have; it is pushed for completeness only.
marker() {
	local name=$1 file=$2
	mkdir -p "$work/$name"
	: >"$work/$name/$file"
	mklayer "$name"
}
for name in test-image-1 test-image-2 test-image-3 test-image-latest test-image-digest; do
	image "{\"Env\":[$path_env],\"Cmd\":[\"sh\"]}" "$base_layer" "$(marker "$name" "$name")" -- \
		"k8s-staging-cri-tools/$name:latest"
done
image "{\"Env\":[$path_env],\"Cmd\":[\"sh\"]}" "$base_layer" "$(marker same-image same-image)" -- \
	k8s-staging-cri-tools/test-image-tags:1 k8s-staging-cri-tools/test-image-tags:2 \
	k8s-staging-cri-tools/test-image-tags:3
for tag in test all; do
	image "{\"Env\":[$path_env],\"Cmd\":[\"sh\"]}" "$base_layer" "$(marker "tag-$tag" "$tag")" -- \
		"k8s-staging-cri-tools/test-image-tag:$tag"
done
