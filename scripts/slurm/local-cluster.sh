#!/usr/bin/env bash
# A one-node Slurm cluster on 127.0.0.1, for trying `npm run study:slurm` and for its test.
#
#   scripts/slurm/local-cluster.sh start DIR [CPUS]   # munge, slurmctld, slurmd; prints `export SLURM_CONF=...`
#   scripts/slurm/local-cluster.sh stop DIR
#
# Needs root and Debian's slurm-wlm and munge (apt-get install slurm-wlm munge). Everything the
# cluster writes (config, state, spool, logs, pid files) stays in DIR; munge uses the system's
# /etc/munge/munge.key and a socket in DIR. The settings are the ones known to work in a container:
# no cgroups (proctrack/linuxproc, task/none), CPUs scheduled as consumable resources (cons_tres).
set -euo pipefail
cmd="${1:-}"; dir="${2:-}"
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: $0 start|stop DIR [CPUS]" >&2; exit 2; }
mkdir -p "$dir"; dir="$(cd "$dir" && pwd)"
conf="$dir/slurm.conf"; sock="$dir/munge/munge.socket"

stop() {
  for p in slurmd slurmctld munged; do
    if [ -f "$dir/$p.pid" ]; then kill "$(cat "$dir/$p.pid")" 2>/dev/null || true; rm -f "$dir/$p.pid"; fi
  done
}

case "$cmd" in
  stop) stop; exit 0 ;;
  start) ;;
  *) echo "$0: unknown command \"$cmd\" (start or stop)" >&2; exit 2 ;;
esac

[ "$(id -u)" = 0 ] || { echo "$0: the local cluster needs root (slurmd runs jobs as their user)" >&2; exit 1; }
for b in munged slurmctld slurmd sbatch; do
  command -v "$b" >/dev/null || { echo "$0: $b is missing (apt-get install slurm-wlm munge)" >&2; exit 1; }
done
stop
cpus="${3:-$(nproc)}"
mkdir -p "$dir/state" "$dir/spool" "$dir/munge"
chown munge:munge "$dir/munge" 2>/dev/null || true
# munged keeps its socket where the Slurm daemons and clients are told to look (AuthInfo below).
munged --socket="$sock" --pid-file="$dir/munged.pid" --log-file="$dir/munged.log" --seed-file="$dir/munge/munge.seed" --force
cat > "$conf" <<CONF
ClusterName=ftgen
SlurmctldHost=localhost(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$sock
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
MpiDefault=none
ReturnToService=2
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
SlurmctldPort=6817
SlurmdPort=6818
NodeName=ftgen-node NodeAddr=127.0.0.1 NodeHostname=localhost CPUs=$cpus State=UNKNOWN
PartitionName=local Nodes=ftgen-node Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF="$conf"
slurmctld -f "$conf"
slurmd -f "$conf" -N ftgen-node
# Ready when the node takes jobs.
for _ in $(seq 1 60); do
  state="$(sinfo -h -N -o %t 2>/dev/null || true)"
  case "$state" in idle*|mix*|alloc*) echo "export SLURM_CONF=$conf"; exit 0 ;; esac
  sleep 0.5
done
echo "$0: the node did not come up (state \"${state:-none}\"); see $dir/slurmctld.log and $dir/slurmd.log" >&2
exit 1
