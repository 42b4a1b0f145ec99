#!/bin/sh
# The restore drill (infra/data/drill.go): restore the newest backup of a
# database into a throwaway CloudNativePG cluster, read the age of its
# canary, push the result to the Pushgateway and delete the cluster.
#
# Environment: NAMESPACE (this one), CLUSTER (the throwaway's name),
# SOURCE_NAMESPACE (the restored database's), PUSHGATEWAY (URL), TIMEOUT
# (seconds to wait for a ready cluster), RPO_OBJECTIVE and RTO_OBJECTIVE
# (seconds), MANIFEST (the cluster's manifest), the metric names METRIC_*,
# CANARY_METRIC. Tools: kubectl, curl, awk.
set -eu

start=$(date +%s)

# gauge NAME VALUE prints one gauge in the text exposition format.
gauge() { printf '# TYPE %s gauge\n%s{source_namespace="%s"} %s\n' "$1" "$1" "$SOURCE_NAMESPACE" "$2"; }

# push sends standard input to this drill's group (POST keeps the group's
# other metrics, such as the last success when this run failed).
push() {
	curl -fsS --max-time 30 --retry 3 --data-binary @- \
		"$PUSHGATEWAY/metrics/job/$DRILL_JOB/namespace/$NAMESPACE"
}

cleanup() {
	kubectl delete cluster "$CLUSTER" --ignore-not-found --wait=false >/dev/null 2>&1 || true
}

fail() {
	echo "restore drill of $SOURCE_NAMESPACE failed: $*" >&2
	{
		gauge "$METRIC_LAST_RUN" "$(date +%s)"
		gauge "$METRIC_SUCCESS" 0
	} | push || echo "restore drill: the failure could not be pushed either" >&2
	cleanup
	exit 1
}
trap 'fail "interrupted"' INT TERM

echo "restore drill of $SOURCE_NAMESPACE: removing the last drill's cluster, if any"
kubectl delete cluster "$CLUSTER" --ignore-not-found --wait=true --timeout=10m ||
	fail "the last drill's cluster $CLUSTER cannot be deleted"
echo "restore drill: creating $CLUSTER from the newest backup"
kubectl create -f "$MANIFEST" || fail "cannot create the cluster $CLUSTER"
kubectl wait "cluster/$CLUSTER" --for=condition=Ready --timeout="${TIMEOUT}s" ||
	fail "the cluster $CLUSTER was not ready within ${TIMEOUT}s (kubectl -n $NAMESPACE describe cluster $CLUSTER)"

ip=$(kubectl get pod -l "cnpg.io/cluster=$CLUSTER,cnpg.io/instanceRole=primary" \
	-o jsonpath='{.items[0].status.podIP}') || fail "no primary of $CLUSTER"
[ -n "$ip" ] || fail "the primary of $CLUSTER has no address"

# The exporter runs the canary query against the restored database; the
# value may be in exponent notation, which awk reads.
newest=$(curl -fsS --max-time 30 --retry 3 "http://$ip:9187/metrics" |
	awk -v m="$CANARY_METRIC" 'index($1, m) == 1 && (length($1) == length(m) || substr($1, length(m) + 1, 1) == "{") { printf "%d\n", $2; exit }') ||
	fail "cannot read the restored database's metrics"
case $newest in
'' | 0) fail "the restored database has no canary row (is the canary writer of $SOURCE_NAMESPACE running?)" ;;
esac

ready=$(date +%s)
rpo=$((start - newest))
[ "$rpo" -ge 0 ] || rpo=0
rto=$((ready - start))
echo "restore drill of $SOURCE_NAMESPACE: restored and verified; RPO ${rpo}s (objective ${RPO_OBJECTIVE}s), RTO ${rto}s (objective ${RTO_OBJECTIVE}s)"

{
	gauge "$METRIC_LAST_RUN" "$ready"
	gauge "$METRIC_SUCCESS" 1
	gauge "$METRIC_LAST_SUCCESS" "$ready"
	gauge "$METRIC_RPO" "$rpo"
	gauge "$METRIC_RTO" "$rto"
	gauge "$METRIC_RPO_OBJECTIVE" "$RPO_OBJECTIVE"
	gauge "$METRIC_RTO_OBJECTIVE" "$RTO_OBJECTIVE"
} | push || { cleanup; echo "restore drill: the result could not be pushed" >&2; exit 1; }
cleanup
