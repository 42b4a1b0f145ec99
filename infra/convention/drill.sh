# The restore drills' shared part, sourced by each drill's script
# (infra/data/drill.sh, infra/platform/longhorn-drill.sh). It reads
# SOURCE_NAMESPACE (whose data is restored), NAMESPACE (the drill's own),
# PUSHGATEWAY, DRILL_JOB, the metric names METRIC_* and the objectives
# RPO_OBJECTIVE and RTO_OBJECTIVE (seconds); the script defines cleanup.

# begin marks the restore's start, after the last drill's leftovers are
# gone: RPO and RTO count from it.
begin() { start=$(date +%s); }

# gauge NAME VALUE prints one gauge in the text exposition format.
gauge() { printf '# TYPE %s gauge\n%s{source_namespace="%s"} %s\n' "$1" "$1" "$SOURCE_NAMESPACE" "$2"; }

# push sends standard input to this drill's group (POST keeps the group's
# other metrics, such as the last success when this run failed).
push() {
	curl -fsS --max-time 30 --retry 3 --retry-connrefused --data-binary @- \
		"$PUSHGATEWAY/metrics/job/$DRILL_JOB/namespace/$NAMESPACE"
}

# waitfor runs a long command (a wait) in the background and waits for
# it: a signal then interrupts the shell's wait and runs the trap at once,
# instead of after the command.
child=
waitfor() {
	"$@" &
	child=$!
	wait "$child" && status=0 || status=$?
	child=
	return "$status"
}

# fail pushes a failed run, cleans up and exits 1.
finished=
fail() {
	finished=1
	[ -z "$child" ] || kill "$child" 2>/dev/null || true
	echo "restore drill of $SOURCE_NAMESPACE failed: $*" >&2
	{
		gauge "$METRIC_LAST_RUN" "$(date +%s)"
		gauge "$METRIC_SUCCESS" 0
	} | push || echo "restore drill: the failure could not be pushed either" >&2
	cleanup
	exit 1
}
trap 'fail "interrupted"' INT TERM
# Any other exit before the end is a failure too, pushed as one.
trap '[ -n "$finished" ] || fail "stopped at an unexpected error (see above)"' EXIT

# succeed NEWEST pushes a verified restore whose data is as of NEWEST
# (seconds since the epoch): RPO from the restore's start (begin), RTO
# until now.
succeed() {
	ready=$(date +%s)
	rpo=$((start - $1))
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
	} | push || { finished=1; cleanup; echo "restore drill: the result could not be pushed" >&2; exit 1; }
	finished=1
	cleanup
}
