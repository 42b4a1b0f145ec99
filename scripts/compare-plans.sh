#!/usr/bin/env bash
# Compares the offline JSON plans (cmd/plan) of every stack and phase at a
# git revision with those of the working tree: a refactoring must leave
# every resource's URN and inputs as they were. Prints the differences and
# exits 1 when there are any.
#
#   scripts/compare-plans.sh [REV]     (default: HEAD)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
rev="${1:-HEAD}"
work="$(mktemp -d)"
trap 'git -C "$root" worktree remove --force "$work/base" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

# plans DIR OUT renders the plans of the project in DIR into OUT.
plans() {
	mkdir -p "$2"
	(
		cd "$1"
		go run ./cmd/plan -stack uat -format json >"$2/uat.json"
		go run ./cmd/plan -stack prod -format json >"$2/prod.json"
		go run ./cmd/plan -stack prod -set camps-infra:phase=2 -format json >"$2/prod-phase2.json"
		go run ./cmd/plan -stack prod -set camps-infra:phase=2 -set 'camps-infra:security={"externalSecrets":true}' \
			-format json >"$2/prod-phase2-external-secrets.json"
	)
}

git -C "$root" worktree add --detach --quiet "$work/base" "$rev"
plans "$work/base" "$work/before"
plans "$root" "$work/after"
status=0
for f in uat prod prod-phase2 prod-phase2-external-secrets; do
	if cmp -s "$work/before/$f.json" "$work/after/$f.json"; then
		printf 'plan %-30s identical (%d resources)\n' "$f" "$(grep -c '"urn":' "$work/after/$f.json")"
	else
		printf 'plan %-30s DIFFERS from %s:\n' "$f" "$rev"
		diff -u "$work/before/$f.json" "$work/after/$f.json" | head -60 || true
		status=1
	fi
done
exit $status
