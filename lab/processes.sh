# Sourced by lab/lab.sh and lab/cluster.sh (each defines log first): the lab
# stops only the processes it started, by their recorded pids, and checks each
# pid's command line before signalling it (guards against pid reuse).

# pid_alive PIDFILE PATTERN: pid recorded in PIDFILE is running and its
# command line contains PATTERN (guards against pid reuse).
pid_alive() {
  local f=$1 pat=$2 pid
  [[ -s $f ]] || return 1
  pid=$(<"$f")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  [[ -r /proc/$pid/cmdline ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$pat"
}

# stop_pid PID PATTERN [TIMEOUT]: SIGTERM, wait, then SIGKILL. Only touches
# the pid if its command line still contains PATTERN.
stop_pid() {
  local pid=$1 pat=$2 timeout=${3:-30} i
  [[ $pid =~ ^[0-9]+$ && -r /proc/$pid/cmdline ]] || return 0
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$pat" || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < timeout * 10; i++)); do
    [[ -e /proc/$pid ]] || return 0
    # a zombie counts as gone (its parent may be a shell that exited)
    [[ $(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) == Z ]] && return 0
    sleep 0.1
  done
  log "pid $pid ($pat) did not exit after ${timeout}s; sending SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do [[ -e /proc/$pid ]] || return 0; sleep 0.1; done
}

stop_pidfile() { # PIDFILE PATTERN [TIMEOUT]
  [[ -s $1 ]] && stop_pid "$(<"$1")" "$2" "${3:-30}"
  rm -f "$1"
}

umount_below() { # DIR
  local d=$1 m
  # /proc/self/mounts escapes spaces etc.; lab paths have none.
  for m in $(awk -v d="$d" '$2 == d || index($2, d "/") == 1 {print $2}' /proc/self/mounts | sort -r); do
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || log "could not unmount $m"
  done
}
