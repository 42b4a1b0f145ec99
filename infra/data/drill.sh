#!/bin/sh
# The restore drill (infra/data/drill.go): restore the newest backup of a
# database into a throwaway CloudNativePG cluster, read the age of its
# canary, push the result to the Pushgateway and delete the cluster.
#
# Environment: as lib.sh's (beside it), and CLUSTER (the throwaway's
# name), TIMEOUT (seconds to wait for a ready cluster), MANIFEST (the
# cluster's manifest), CANARY_METRIC. Tools: kubectl, curl, awk.
set -eu

cleanup() {
	kubectl delete cluster "$CLUSTER" --ignore-not-found --wait=false >/dev/null 2>&1 || true
}

. "$(dirname "$0")/lib.sh"

echo "restore drill of $SOURCE_NAMESPACE: removing the last drill's cluster, if any"
kubectl delete cluster "$CLUSTER" --ignore-not-found --wait=true --timeout=10m ||
	fail "the last drill's cluster $CLUSTER cannot be deleted"
echo "restore drill: creating $CLUSTER from the newest backup"
begin
kubectl create -f "$MANIFEST" || fail "cannot create the cluster $CLUSTER"
waitfor kubectl wait "cluster/$CLUSTER" --for=condition=Ready --timeout="${TIMEOUT}s" ||
	fail "the cluster $CLUSTER was not ready within ${TIMEOUT}s (kubectl -n $NAMESPACE describe cluster $CLUSTER)"

ip=$(kubectl get pod -l "cnpg.io/cluster=$CLUSTER,cnpg.io/instanceRole=primary" \
	-o jsonpath='{.items[0].status.podIP}') || fail "no primary of $CLUSTER"
[ -n "$ip" ] || fail "the primary of $CLUSTER has no address"

# The exporter runs the canary query against the restored database. The
# value may be in exponent notation (awk reads it; %.0f keeps 64 bits) or
# NaN when the table is empty (not above 0, so refused).
metrics=$(curl -fsS --max-time 30 --retry 3 --retry-connrefused "http://$ip:9187/metrics") ||
	fail "cannot read the restored database's metrics"
newest=$(printf '%s\n' "$metrics" |
	awk -v m="$CANARY_METRIC" 'index($1, m) == 1 && (length($1) == length(m) || substr($1, length(m) + 1, 1) == "{") && $2 + 0 > 0 { printf "%.0f\n", $2; exit }')
[ -n "$newest" ] ||
	fail "the restored database has no canary row (is the canary writer of $SOURCE_NAMESPACE running, and may the exporter read camps.canary?)"

succeed "$newest"
