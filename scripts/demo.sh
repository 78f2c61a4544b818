#!/bin/sh
# demo.sh: run a busybox container with bin/berth, then walk one through the
# OCI lifecycle create → state → start → kill → delete, printing each state.
set -eu
berth=$(readlink -f "${BERTH:-bin/berth}")
root=$(mktemp -d /tmp/berth-demo-root.XXXXXX)
bundle=$(mktemp -d /tmp/berth-demo-bundle.XXXXXX)
cleanup() {
  "$berth" --root "$root" delete --force demo-run >/dev/null 2>&1 || true
  "$berth" --root "$root" delete --force demo >/dev/null 2>&1 || true
  rm -rf "$root" "$bundle"
}
trap cleanup EXIT
BERTH=$berth scripts/mkbundle.sh "$bundle" sh -c 'echo "hostname: $(hostname)"; echo "id: $(id)"; ps; echo done'

echo "== berth run: a container printing its hostname, id and ps (it is pid 1)"
"$berth" --root "$root" run --bundle "$bundle" demo-run

echo
echo "== the lifecycle: create → state → start → kill → delete"
jq '.process.args = ["sleep", "1000"]' "$bundle/config.json" > "$bundle/c.json" && mv "$bundle/c.json" "$bundle/config.json"
status() { "$berth" --root "$root" state demo | jq -r '"state: \(.status) (pid \(.pid))"'; }
echo "\$ berth create demo"; "$berth" --root "$root" create --bundle "$bundle" demo </dev/null; status
echo "\$ berth start demo"; "$berth" --root "$root" start demo; status
echo "\$ berth list"; "$berth" --root "$root" list
echo "\$ berth kill demo KILL"; "$berth" --root "$root" kill demo KILL
for i in 1 2 3 4 5 6 7 8 9 10; do
  [ "$("$berth" --root "$root" state demo | jq -r .status)" = stopped ] && break
  sleep 0.1
done
status
echo "\$ berth delete demo"; "$berth" --root "$root" delete demo
"$berth" --root "$root" state demo 2>&1 || true
