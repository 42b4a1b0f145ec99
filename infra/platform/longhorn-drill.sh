#!/bin/sh
# Longhorn's restore drill (infra/platform/longhorn_drill.go): restore the
# newest completed backup of any volume into a new volume of one replica,
# wait until Longhorn has restored it (it checks every block's checksum on
# the way), push the result to the Pushgateway and delete the volume.
#
# Environment: as lib.sh's (beside it), and VOLUME (the restored volume's
# name), VOLUME_MANIFEST (its Volume, a printf format of the backup's URL)
# and TIMEOUT (seconds to wait for the restore). Tools: kubectl, curl.
set -eu

cleanup() {
	kubectl delete volumes.longhorn.io "$VOLUME" --ignore-not-found --wait=false >/dev/null 2>&1 || true
}

. "$(dirname "$0")/lib.sh"

kubectl delete volumes.longhorn.io "$VOLUME" --ignore-not-found --wait=true --timeout=10m ||
	fail "the last drill's volume $VOLUME cannot be deleted"

# The newest completed backup of a volume other than the drill's own: its
# creation time (RFC 3339, so sorting the strings sorts the times), name
# and URL.
backups=$(kubectl get backups.longhorn.io \
	-o jsonpath='{range .items[?(@.status.state=="Completed")]}{.status.backupCreatedAt}{" "}{.metadata.name}{" "}{.status.url}{"\n"}{end}') ||
	fail "cannot list the backups"
newest=$(printf '%s\n' "$backups" | grep -v "volume=$VOLUME\$" | sort | tail -n 1)
[ -n "$newest" ] || fail "there is no completed backup to restore"
created=${newest%% *}
rest=${newest#* }
backup=${rest%% *}
url=${rest#* }
created_at=$(date -u -d "$(echo "$created" | sed 's/T/ /; s/Z$//')" +%s) ||
	fail "backup $backup: cannot read its time $created"
echo "restore drill: restoring $backup of $created into $VOLUME"
begin

printf "$VOLUME_MANIFEST" "$url" | kubectl create -f - || fail "cannot create the volume $VOLUME from $backup"
waitfor kubectl wait "volumes.longhorn.io/$VOLUME" --for=jsonpath='{.status.restoreInitiated}'=true --timeout=5m ||
	fail "the restore of $backup did not start (kubectl -n $NAMESPACE describe volumes.longhorn.io $VOLUME)"
waitfor kubectl wait "volumes.longhorn.io/$VOLUME" --for=jsonpath='{.status.restoreRequired}'=false --timeout="${TIMEOUT}s" ||
	fail "the restore of $backup did not finish within ${TIMEOUT}s (kubectl -n $NAMESPACE describe volumes.longhorn.io $VOLUME)"
robustness=$(kubectl get "volumes.longhorn.io/$VOLUME" -o jsonpath='{.status.robustness}') ||
	fail "cannot read the state of $VOLUME"
[ "$robustness" != faulted ] || fail "the restore of $backup left the volume faulted"

succeed "$created_at"
