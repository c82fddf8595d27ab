#!/usr/bin/env bash
# swarm-deploy's three-manager cluster: a swarm of three managers (c1, c2,
# c3) and one worker (c4), each node in its own network namespace with its own
# dockerd and sshd, and an open registry of its own. It is separate from the
# main lab (lab/lab.sh): its own bridge, subnet, namespaces, run dir and data
# roots, so the runs on the main lab never see it. Only
# __tests__/e2e/managers-ha.test.ts uses it (up in beforeAll, down in
# afterAll). See lab/README.md.
#
#   bash lab/cluster.sh up|down|status|env
#   bash lab/cluster.sh stop-engine NODE|start-engine NODE   (NODE: c1..c4)
#   bash lab/cluster.sh demote NODE|promote NODE
#   bash lab/cluster.sh leader                               (the leader's node name)
#
# CLUSTER_ENGINE=28|20 picks the engine: 28 (the default, when the main lab
# has unpacked it) runs the main lab's engine-28 binaries; 20 the system's 20.10.
#
# Must run as root. Everything is stopped by the pids it recorded.
set -Eeuo pipefail

BRIDGE=swc0
SUBNET_PREFIX=10.78.0
HOST_IP=$SUBNET_PREFIX.1
REGISTRY=$HOST_IP:5000
BASE_IMAGE=lab/busybox:1
RUN_DIR=/run/swc
DATA_DIR=/var/lib/swarm-cluster
LOG_DIR=$DATA_DIR/logs
SSH_DIR=$RUN_DIR/ssh
CLUSTER_JSON=$RUN_DIR/cluster.json
CLIENT_KEY=$RUN_DIR/id_ed25519
NODES=(c1 c2 c3 c4)
MANAGERS=(c1 c2 c3)
declare -A NODE_IP=([c1]=$SUBNET_PREFIX.2 [c2]=$SUBNET_PREFIX.3 [c3]=$SUBNET_PREFIX.4 [c4]=$SUBNET_PREFIX.5)
# Each dockerd has a namespace of its own, but these stay apart from the main lab's anyway.
declare -A NODE_BIP=([c1]=172.29.1.1/24 [c2]=172.29.2.1/24 [c3]=172.29.3.1/24 [c4]=172.29.4.1/24)
SWARM_ADDR_POOL=10.202.0.0/16
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PATH

log() { echo "cluster: $*" >&2; }
die() { echo "cluster: ERROR: $*" >&2; exit 1; }

ns() { echo "swc-$1"; }
sock() { echo "$RUN_DIR/$1.sock"; }
pidfile() { echo "$RUN_DIR/$1.pid"; }
dk() { local n=$1; shift; docker -H "unix://$(sock "$n")" "$@"; }
is_node() { [[ " ${NODES[*]} " == *" $1 "* ]] || die "no node '$1' (c1..c4)"; }

# pid_alive, stop_pid, stop_pidfile, umount_below, shared with lab/lab.sh.
# shellcheck source=lab/processes.sh
source "$HERE/processes.sh"

# The engine's binaries: the main lab's engine (what `lab.sh engine-path`
# gives, run read-only: nothing for the system's 20.10; else engine 28's folder
# when unpacked), unless CLUSTER_ENGINE=20|28 picks one. CLUSTER_ENGINE_PATH
# overrides all.
ENGINE28_ROOT=/var/cache/swarm-lab/engine-28/root
engine_path() {
  local p
  [[ -n ${CLUSTER_ENGINE_PATH:-} ]] && { echo "${CLUSTER_ENGINE_PATH%:}"; return 0; }
  [[ ${CLUSTER_ENGINE:-} == 20 ]] && return 0
  if p=$(bash "$HERE/lab.sh" engine-path 2>/dev/null); then
    [[ -n $p ]] && { echo "${p%:}"; return 0; }
    # An empty answer is the main lab on the system's 20.10: the cluster runs it too,
    # unless CLUSTER_ENGINE=28 asks for 28.
    [[ -z ${CLUSTER_ENGINE:-} ]] && return 0
  fi
  [[ -x $ENGINE28_ROOT/usr/sbin/dockerd ]] && { echo "$ENGINE28_ROOT/usr/sbin:$ENGINE28_ROOT/usr/bin"; return 0; }
  [[ -n ${CLUSTER_ENGINE:-} ]] && die "CLUSTER_ENGINE=28: no engine 28 (run lab.sh up with engine 28 first)"
  return 0
}

# ---------------------------------------------------------------- network
net_up() {
  log "network: bridge $BRIDGE $HOST_IP/24, namespaces ${NODES[*]/#/swc-}"
  ip link add "$BRIDGE" type bridge
  ip addr add "$HOST_IP/24" dev "$BRIDGE"
  ip link set "$BRIDGE" up
  local n
  for n in "${NODES[@]}"; do
    ip netns add "$(ns "$n")"
    ip link add "swch-$n" type veth peer name "swcn-$n"
    ip link set "swch-$n" master "$BRIDGE" up
    ip link set "swcn-$n" netns "$(ns "$n")"
    nsenter --net="/var/run/netns/$(ns "$n")" sh -ec "
      ip link set lo up
      ip link set swcn-$n name eth0
      ip addr add ${NODE_IP[$n]}/24 dev eth0
      ip link set eth0 up"
  done
  iptables -C FORWARD -i "$BRIDGE" -o "$BRIDGE" -j ACCEPT 2>/dev/null || iptables -I FORWARD -i "$BRIDGE" -o "$BRIDGE" -j ACCEPT
  iptables -C FORWARD -i "$BRIDGE" ! -o "$BRIDGE" -j DROP 2>/dev/null || iptables -I FORWARD 2 -i "$BRIDGE" ! -o "$BRIDGE" -j DROP
}

net_down() {
  local n
  for n in "${NODES[@]}"; do
    ip netns del "$(ns "$n")" 2>/dev/null || true
    ip link del "swch-$n" 2>/dev/null || true
  done
  ip link del "$BRIDGE" 2>/dev/null || true
  while iptables -D FORWARD -i "$BRIDGE" -o "$BRIDGE" -j ACCEPT 2>/dev/null; do :; done
  while iptables -D FORWARD -i "$BRIDGE" ! -o "$BRIDGE" -j DROP 2>/dev/null; do :; done
}

# ---------------------------------------------------------------- registry (open: the cluster is private to this machine)
registry_up() {
  local dir=$DATA_DIR/registry i
  mkdir -p "$dir/data"
  cat >"$dir/config.yml" <<EOF
version: 0.1
log: { level: warn }
storage:
  filesystem: { rootdirectory: $dir/data }
  delete: { enabled: true }
http:
  addr: $REGISTRY
  secret: $(head -c 24 /dev/urandom | base64 | tr -d '/+=')
EOF
  setsid docker-registry serve "$dir/config.yml" >"$LOG_DIR/registry.log" 2>&1 </dev/null &
  echo $! >"$(pidfile registry)"
  for ((i = 0; i < 100; i++)); do
    [[ $(curl -s -o /dev/null -w '%{http_code}' "http://$REGISTRY/v2/" || true) == 200 ]] && return 0
    sleep 0.1
  done
  die "registry did not answer on $REGISTRY"
}

# ---------------------------------------------------------------- dockerd
dockerd_start() { # NODE
  local n=$1 i engine
  engine=$(engine_path)
  mkdir -p "$DATA_DIR/$n" "$RUN_DIR/$n"
  setsid env PATH="${engine:+$engine:}$PATH" nsenter --net="/var/run/netns/$(ns "$n")" unshare --uts sh -c '
      hostname "$0"; exec "$@"' "swc-$n" \
    dockerd \
      --data-root "$DATA_DIR/$n" \
      --exec-root "$RUN_DIR/$n" \
      --pidfile "$(pidfile "$n")" \
      --host "unix://$(sock "$n")" \
      --bip "${NODE_BIP[$n]}" \
      --default-address-pool base=172.28.0.0/16,size=24 \
      --cgroup-parent "/swc-$n" \
      --insecure-registry "$REGISTRY" \
      --storage-driver overlay2 \
      --shutdown-timeout 2 \
      >>"$LOG_DIR/$n.log" 2>&1 </dev/null &
  for ((i = 0; i < 600; i++)); do
    [[ -S $(sock "$n") ]] && dk "$n" version >/dev/null 2>&1 && return 0
    kill -0 $! 2>/dev/null || { tail -30 "$LOG_DIR/$n.log" >&2; die "dockerd $n exited during startup"; }
    sleep 0.1
  done
  die "dockerd $n did not come up in 60s (log: $LOG_DIR/$n.log)"
}

dockerd_stop() { # NODE: the dockerd by its pidfile, then the containerd and shims it recorded
  local n=$1 f
  stop_pidfile "$(pidfile "$n")" dockerd 60
  for f in $(find "$RUN_DIR/$n" -name shim.pid 2>/dev/null); do stop_pid "$(<"$f")" containerd-shim 10; done
  f=$RUN_DIR/$n/containerd/containerd.pid
  [[ -s $f ]] && stop_pid "$(<"$f")" containerd 20
  umount_below "$RUN_DIR/$n"
  return 0
}

# A manager that answers, for commands about the swarm (not NODE itself).
some_manager() { # [EXCEPT]
  local m
  for m in "${MANAGERS[@]}"; do
    [[ $m == "${1:-}" ]] && continue
    pid_alive "$(pidfile "$m")" dockerd && dk "$m" node ls >/dev/null 2>&1 && { echo "$m"; return 0; }
  done
  return 1
}

nodes_ready() { # the nodes Ready in a manager's view
  local m
  m=$(some_manager) || { echo 0; return 0; }
  dk "$m" node ls --format '{{.Hostname}} {{.Status}}' 2>/dev/null | grep -cE '^swc-c[1-4] Ready$' || true
}

wait_ready() { # SECONDS: all four Ready, and a leader
  local i
  for ((i = 0; i < $1 * 2; i++)); do
    [[ $(nodes_ready) == 4 ]] && return 0
    sleep 0.5
  done
  die "cluster nodes not Ready after $1s"
}

swarm_up() {
  log "swarm: init on c1, join c2 c3 as managers, c4 as a worker"
  dk c1 swarm init --advertise-addr "${NODE_IP[c1]}" --listen-addr "${NODE_IP[c1]}:2377" \
    --default-addr-pool "$SWARM_ADDR_POOL" --default-addr-pool-mask-length 24 >/dev/null
  local mt wt n
  mt=$(dk c1 swarm join-token -q manager)
  wt=$(dk c1 swarm join-token -q worker)
  for n in c2 c3; do
    dk "$n" swarm join --token "$mt" --advertise-addr "${NODE_IP[$n]}" --listen-addr "${NODE_IP[$n]}:2377" "${NODE_IP[c1]}:2377" >/dev/null
  done
  dk c4 swarm join --token "$wt" --advertise-addr "${NODE_IP[c4]}" --listen-addr "${NODE_IP[c4]}:2377" "${NODE_IP[c1]}:2377" >/dev/null
  wait_ready 60
}

base_image_up() {
  local rootfs=$DATA_DIR/busybox-rootfs a
  log "image: $REGISTRY/$BASE_IMAGE from busybox-static"
  rm -rf "$rootfs"
  mkdir -p "$rootfs"/{bin,sbin,usr/bin,usr/sbin,etc,tmp,www,root}
  chmod 1777 "$rootfs/tmp"
  cp /bin/busybox "$rootfs/bin/busybox"
  for a in $(busybox --list-full); do
    [[ $a == bin/busybox ]] && continue
    mkdir -p "$rootfs/$(dirname "$a")"
    ln -sf /bin/busybox "$rootfs/$a"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\n' >"$rootfs/etc/passwd"
  printf 'root:x:0:\n' >"$rootfs/etc/group"
  echo "swarm-cluster busybox" >"$rootfs/www/index.html"
  tar -C "$rootfs" --numeric-owner -c . | dk c1 import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["sh"]' - "$REGISTRY/$BASE_IMAGE" >/dev/null
  dk c1 push -q "$REGISTRY/$BASE_IMAGE" >/dev/null
  rm -rf "$rootfs"
}

# ---------------------------------------------------------------- sshd (one per node, each with its own host key)
sshd_up() { # NODE
  local n=$1 ip=${NODE_IP[$1]} dpid i
  mkdir -p "$SSH_DIR/$n" /run/sshd
  chmod 700 "$SSH_DIR" "$SSH_DIR/$n"
  [[ -f $SSH_DIR/$n/host_key ]] || ssh-keygen -q -t ed25519 -N '' -C "swc-$n" -f "$SSH_DIR/$n/host_key"
  cat >"$SSH_DIR/$n/sshd_config" <<EOF
ListenAddress $ip
Port 22
HostKey $SSH_DIR/$n/host_key
PidFile $(pidfile "sshd-$n")
AuthorizedKeysFile $SSH_DIR/authorized_keys
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
X11Forwarding no
PrintMotd no
MaxSessions 64
MaxStartups 64:30:128
# SHLVL=1: no ~/.bashrc (pyenv init) for each session, as in lab.sh.
SetEnv DOCKER_HOST=unix://$(sock "$n") SHLVL=1
EOF
  dpid=$(<"$(pidfile "$n")")
  /usr/sbin/sshd -t -f "$SSH_DIR/$n/sshd_config"
  # Its own network and UTS namespaces; it outlives its dockerd (stop-engine).
  nsenter --net="/var/run/netns/$(ns "$n")" --uts="/proc/$dpid/ns/uts" \
    /usr/sbin/sshd -f "$SSH_DIR/$n/sshd_config" -E "$LOG_DIR/sshd-$n.log" </dev/null
  for ((i = 0; i < 50; i++)); do
    pid_alive "$(pidfile "sshd-$n")" sshd && (exec 3<>"/dev/tcp/$ip/22") 2>/dev/null && return 0
    sleep 0.1
  done
  die "sshd of $n did not come up on $ip:22"
}

write_json() {
  local n known="" hosts=""
  for n in "${MANAGERS[@]}"; do
    known+="${NODE_IP[$n]} $(cut -d' ' -f1,2 "$SSH_DIR/$n/host_key.pub")"$'\n'
    hosts+="${hosts:+ }${NODE_IP[$n]}"
  done
  known+="${NODE_IP[c4]} $(cut -d' ' -f1,2 "$SSH_DIR/c4/host_key.pub")"$'\n'
  KH=$known node -e '
    const fs = require("fs");
    const [file, registry, image, key, hosts, engine, ...socks] = process.argv.slice(1);
    const names = ["c1", "c2", "c3", "c4"];
    const j = {
      registry, baseImage: image, sshUser: "root", sshKeyFile: key, knownHosts: process.env.KH,
      managers: hosts.split(" "), worker: "10.78.0.5", engine,
      nodes: Object.fromEntries(names.map((n, i) => [n, { hostname: "swc-" + n, dockerHost: "unix://" + socks[i] }]))
    };
    fs.writeFileSync(file, JSON.stringify(j, null, 2) + "\n", { mode: 0o600 });
  ' "$CLUSTER_JSON" "$REGISTRY" "$BASE_IMAGE" "$CLIENT_KEY" "$hosts" "$(dk c1 version --format '{{.Server.Version}}')" \
    "$(sock c1)" "$(sock c2)" "$(sock c3)" "$(sock c4)"
}

# ---------------------------------------------------------------- commands
health() {
  local ok=0 n
  for n in "${NODES[@]}"; do
    if pid_alive "$(pidfile "$n")" dockerd && dk "$n" version >/dev/null 2>&1; then echo "dockerd $n: up"; else echo "dockerd $n: DOWN"; ok=1; fi
    if pid_alive "$(pidfile "sshd-$n")" sshd; then echo "sshd $n: up (${NODE_IP[$n]}:22)"; else echo "sshd $n: DOWN"; ok=1; fi
  done
  pid_alive "$(pidfile registry)" docker-registry && echo "registry: up ($REGISTRY)" || { echo "registry: DOWN"; ok=1; }
  local ready
  ready=$(nodes_ready)
  echo "swarm: $ready/4 nodes Ready"
  [[ $ready == 4 ]] || ok=1
  [[ -s $CLUSTER_JSON ]] || ok=1
  return $ok
}

cmd_up() {
  local t0=$SECONDS n
  [[ $EUID == 0 ]] || die "must run as root"
  if [[ -d $RUN_DIR ]] && health >/dev/null 2>&1; then log "already up and healthy"; return 0; fi
  if [[ -e $RUN_DIR || -e $DATA_DIR ]] || ip link show "$BRIDGE" >/dev/null 2>&1; then
    log "found a partial cluster; tearing it down first"
    cmd_down
  fi
  mkdir -p "$RUN_DIR" "$LOG_DIR"
  chmod 700 "$RUN_DIR"
  mkdir -p "$SSH_DIR"
  [[ -f $CLIENT_KEY ]] || ssh-keygen -q -t ed25519 -N '' -C swarm-cluster -f "$CLIENT_KEY"
  cp "$CLIENT_KEY.pub" "$SSH_DIR/authorized_keys"
  chmod 600 "$SSH_DIR/authorized_keys"
  net_up
  registry_up
  log "dockerd: starting ${NODES[*]}${CLUSTER_ENGINE:+ (engine $CLUSTER_ENGINE)}"
  for n in "${NODES[@]}"; do dockerd_start "$n"; done
  swarm_up
  base_image_up
  for n in "${NODES[@]}"; do sshd_up "$n"; done
  write_json
  health >&2 || die "cluster is not healthy after up"
  log "up in $((SECONDS - t0))s; details in $CLUSTER_JSON"
}

cmd_down() {
  [[ $EUID == 0 ]] || die "must run as root"
  local n pids=()
  log "down"
  for n in "${NODES[@]}"; do stop_pidfile "$(pidfile "sshd-$n")" sshd 10; done
  for n in "${NODES[@]}"; do
    pid_alive "$(pidfile "$n")" dockerd || continue
    dk "$n" ps -q 2>/dev/null | xargs -r timeout 20 docker -H "unix://$(sock "$n")" kill >/dev/null 2>&1 || true
  done
  for n in "${NODES[@]}"; do dockerd_stop "$n" & pids+=($!); done
  for n in "${pids[@]}"; do wait "$n" || true; done
  stop_pidfile "$(pidfile registry)" docker-registry 10
  for n in "${NODES[@]}"; do
    for d in /sys/fs/cgroup/*/"swc-$n" /sys/fs/cgroup/"swc-$n"; do
      [[ -d $d ]] && { find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null || true; }
    done
  done
  umount_below "$RUN_DIR"
  umount_below "$DATA_DIR"
  net_down
  rm -rf "$RUN_DIR" "$DATA_DIR"
}

cmd_status() {
  local rc=0 m
  health || rc=$?
  if m=$(some_manager); then echo; dk "$m" node ls 2>&1 || true; fi
  return $rc
}

# Stop one node's dockerd (its sshd keeps running: a crashed engine on a live machine).
cmd_stop_engine() {
  is_node "$1"
  dockerd_stop "$1"
  log "dockerd of $1 stopped (sshd still up)"
}

cmd_start_engine() {
  is_node "$1"
  pid_alive "$(pidfile "$1")" dockerd && { log "dockerd of $1 already running"; return 0; }
  dockerd_start "$1"
  log "dockerd of $1 started"
}

cmd_leader() {
  local m
  m=$(some_manager) || die "no manager answers"
  dk "$m" node ls --format '{{.Hostname}} {{.ManagerStatus}}' | awk '$2 == "Leader" {sub("swc-", "", $1); print $1}'
}

# demote|promote NODE, through another manager that answers.
cmd_role() {
  local m
  is_node "$2"
  m=$(some_manager "$2") || die "no other manager answers"
  dk "$m" node "$1" "swc-$2" >/dev/null
  log "$1d $2 (through $m)"
}

main() {
  case ${1:-} in
    up) cmd_up ;;
    down) cmd_down ;;
    status) cmd_status ;;
    env) cat "$CLUSTER_JSON" ;;
    stop-engine) cmd_stop_engine "${2:-}" ;;
    start-engine) cmd_start_engine "${2:-}" ;;
    leader) cmd_leader ;;
    demote | promote) cmd_role "$1" "${2:-}" ;;
    *) echo "usage: $0 up|down|status|env|leader|stop-engine NODE|start-engine NODE|demote NODE|promote NODE" >&2; exit 2 ;;
  esac
}

main "$@"
