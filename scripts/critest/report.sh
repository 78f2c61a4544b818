#!/usr/bin/env bash
# report.sh RESULTS REFERENCE [CANDIDATE]: the markdown summary of a
# `make critest` run from the ginkgo JSON reports in RESULTS/<runtime>/:
# passed/failed/skipped per runtime, then the tests CANDIDATE (berth) fails
# where REFERENCE (runc) passes, with the first line of each failure, and
# the reverse. Tests are counted at the "It" level only: ginkgo's suite
# nodes (BeforeSuite, ...) are not tests.
set -euo pipefail

results=$1
shift
runtimes=("$@")

# specs RUNTIME: one JSON object per test: name, state, message.
specs() {
	local report=$results/$1/report.json
	[[ -s $report ]] || return 0
	jq -c '.[].SpecReports[]? | select(.LeafNodeType == "It") |
		{name: ((.ContainerHierarchyTexts // []) + [.LeafNodeText] | join(" ")),
		 state: .State,
		 message: ((.Failure.Message // "") | split("\n") | map(select(length > 0)) | .[0] // "")}' "$report"
}

# The states ginkgo reports, folded into the three columns.
fold='if .state == "passed" then "passed"
      elif .state == "skipped" or .state == "pending" then "skipped"
      else "failed" end'

echo "| runtime | passed | failed | skipped | seconds |"
echo "|---|---|---|---|---|"
for rt in "${runtimes[@]}"; do
	specs "$rt" | jq -rs --arg rt "$rt" --arg secs "$(cat "$results/$rt/seconds" 2>/dev/null || echo '?')" \
		"map($fold) | \"| \\(\$rt) | \\(map(select(. == \"passed\")) | length) | \\(map(select(. == \"failed\")) | length) | \\(map(select(. == \"skipped\")) | length) | \\(\$secs) |\""
done

[[ ${#runtimes[@]} -ge 2 ]] || exit 0
ref=${runtimes[0]}
cand=${runtimes[1]}

# compare A B: tests A fails and B passes, with A's failure message.
compare() {
	jq -rs --slurpfile other <(specs "$2") "
		(\$other | map({key: .name, value: ($fold)}) | from_entries) as \$b |
		map(select(($fold) == \"failed\" and \$b[.name] == \"passed\")) | sort_by(.name) |
		if length == 0 then \"(none)\" else .[] | \"- \\(.name)\\n    \\(.message)\" end" < <(specs "$1")
}

echo
echo "### $cand fails, $ref passes"
echo
compare "$cand" "$ref"
echo
echo "### $ref fails, $cand passes"
echo
compare "$ref" "$cand"
