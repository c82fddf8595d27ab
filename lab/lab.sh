#!/usr/bin/env bash
# swarm-deploy local lab: a real two-node Docker Swarm, a "runner" Docker,
# an authenticated registry and an sshd on the manager, all on this machine,
# each node in its own network namespace. See lab/README.md.
#
#   bash lab/lab.sh up|down|status|env|worker-stop|worker-start|manager-restart|sshd-restart|sshd-drop
#   bash lab/lab.sh extra-sshd up|down
#   bash lab/lab.sh bastion up|down
#   bash lab/lab.sh registry-user set|rm NAME   (set: the password on stdin)
#   bash lab/lab.sh job-image                    (prune-images' job image on the nodes; also part of up)
#   bash lab/lab.sh engine-path                  (PATH prefix of the engine's binaries)
#   bash lab/lab.sh node-add|node-remove         (a third swarm node, swl-n3: lab/node3.sh)
#
# LAB_ENGINE=28 (default: Debian sid's docker.io 28.5, containerd 2.1, buildx
# and compose plugins for the runner) or LAB_ENGINE=20 (Debian bookworm's
# docker.io 20.10, no plugins). Switching engines needs a `down` in between.
#
# Must run as root. All traffic stays on the bridge swl0 (10.77.0.0/24): the
# namespaces get no default route, so nothing in the lab can reach any other
# address.
set -Eeuo pipefail

# ---------------------------------------------------------------- constants
BRIDGE=swl0
SUBNET_PREFIX=10.77.0
HOST_IP=$SUBNET_PREFIX.1
MGR_IP=$SUBNET_PREFIX.2
REGISTRY=$HOST_IP:5000
REGISTRY_USER=lab
BASE_IMAGE=lab/busybox:1

RUN_DIR=/run/swl                 # sockets, pidfiles, keys, lab.json (short paths!)
DATA_DIR=/var/lib/swarm-lab      # data roots, registry storage, logs
LOG_DIR=$DATA_DIR/logs
SSH_DIR=$RUN_DIR/ssh
LAB_JSON=$RUN_DIR/lab.json
CLIENT_KEY=$RUN_DIR/id_ed25519

NODES=(mgr wrk run)              # docker daemons; mgr+wrk form the swarm
declare -A NODE_IP=([mgr]=$SUBNET_PREFIX.2 [wrk]=$SUBNET_PREFIX.3 [run]=$SUBNET_PREFIX.4)
declare -A NODE_BIP=([mgr]=172.30.1.1/24 [wrk]=172.30.2.1/24 [run]=172.30.3.1/24)
# Swarm-scoped (overlay) address pool; kept well away from 10.77.0.0/24.
SWARM_ADDR_POOL=10.201.0.0/16

# Prefer the newer CLI in /usr/local/bin (28.x; talks to the 20.10 engine fine).
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PATH
SYSTEM_PATH=$PATH

# Engine 28's packages, unpacked once and kept across `down` (a rebuild then
# needs no network). Not under /usr: the system's Docker stays as it is.
ENGINE_CACHE=/var/cache/swarm-lab
ENGINE_FILE=$RUN_DIR/engine        # the running lab's engine, also in lab.json
# Where the docker CLI looks for plugins whatever DOCKER_CONFIG says, as on a
# GitHub runner (docker-ce installs buildx and compose in such a folder).
CLI_PLUGIN_DIR=/usr/local/lib/docker/cli-plugins

log() { echo "lab: $*" >&2; }
die() { echo "lab: ERROR: $*" >&2; exit 1; }

ns()       { echo "swl-$1"; }             # netns name, also the node hostname
sock()     { echo "$RUN_DIR/$1.sock"; }
host_sock() { echo "$RUN_DIR/$(ns "$1").sock"; }  # the socket by hostname (prune-docker-socket)
pidfile()  { echo "$RUN_DIR/$1.pid"; }
dk()       { local n=$1; shift; docker -H "unix://$(sock "$n")" "$@"; }

# pid_alive, stop_pid, stop_pidfile, umount_below: lab/processes.sh (cluster.sh uses them too).
# shellcheck source=lab/processes.sh
source "$(dirname "${BASH_SOURCE[0]}")/processes.sh"

# ---------------------------------------------------------------- packages
install_packages() {
  # binary -> Debian package. Only what is missing is installed, so a machine
  # that already has Docker (e.g. docker-ce on a GitHub runner) keeps its own.
  declare -A pkg_of=([dockerd]=docker.io [containerd]=docker.io [runc]=docker.io [docker-init]=docker.io
                     [docker-registry]=docker-registry [sshd]=openssh-server [ssh]=openssh-client
                     [ssh-keygen]=openssh-client [busybox]=busybox-static [htpasswd]=apache2-utils
                     [ip]=iproute2 [iptables]=iptables [nsenter]=util-linux [unshare]=util-linux [curl]=curl)
  local bins=("${!pkg_of[@]}") missing=() packages=() b
  command -v node >/dev/null || die "node is required"
  for b in "${bins[@]}"; do command -v "$b" >/dev/null || missing+=("$b"); done
  # The Debian docker CLI comes with docker.io; any docker CLI will do.
  command -v docker >/dev/null || missing+=(docker) pkg_of[docker]=docker.io
  ((${#missing[@]} == 0)) && return 0
  for b in "${missing[@]}"; do packages+=("${pkg_of[$b]}"); done
  mapfile -t packages < <(printf '%s\n' "${packages[@]}" | sort -u)
  log "installing ${packages[*]} (missing: ${missing[*]})"
  export DEBIAN_FRONTEND=noninteractive
  # The packages' own services (a host dockerd, a registry on *:5000, sshd on
  # *:22) must not start: they would clash with the lab's instances. This
  # machine kind ships a policy-rc.d that says so; make sure of it.
  local policy=/usr/sbin/policy-rc.d added_policy=
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\n# temporary, from swarm-lab lab.sh\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    added_policy=1
  fi
  local rc=0
  { apt-get update -qq &&
    apt-get install -y -qq --no-install-recommends \
      "${packages[@]}"; } >&2 || rc=$?
  [[ -z $added_policy ]] || rm -f "$policy"
  ((rc == 0)) || die "apt-get failed (exit $rc)"
  for b in "${bins[@]}"; do command -v "$b" >/dev/null || die "$b still missing after apt-get"; done
}

# ---------------------------------------------------------------- engine
# LAB_ENGINE, engine 28's packages and the runner's CLI plugins: lab/engine.sh.
# shellcheck source=lab/engine.sh
source "$(dirname "${BASH_SOURCE[0]}")/engine.sh"

# node-add / node-remove: a third swarm node on demand, lab/node3.sh.
# shellcheck source=lab/node3.sh
source "$(dirname "${BASH_SOURCE[0]}")/node3.sh"

# ---------------------------------------------------------------- network
# ns_attach NAME IP: namespace swl-NAME with eth0 at IP on the bridge (its
# host side "swlh-NAME"). Deliberately no default route: only 10.77.0.0/24
# is reachable.
ns_attach() {
  local n=$1 ip=$2
  ip netns add "$(ns "$n")"
  ip link add "swlh-$n" type veth peer name "swln-$n"
  ip link set "swlh-$n" master "$BRIDGE" up
  ip link set "swln-$n" netns "$(ns "$n")"
  nsenter --net="/var/run/netns/$(ns "$n")" sh -ec "
    ip link set lo up
    ip link set swln-$n name eth0
    ip addr add $ip/24 dev eth0
    ip link set eth0 up"
}

net_up() {
  log "network: bridge $BRIDGE $HOST_IP/24, namespaces ${NODES[*]/#/swl-}"
  # `ip netns add` turns /run/netns into a bind mount the first time; remember
  # whether that was us, so that `down` can undo it.
  mountpoint -q /run/netns || touch "$RUN_DIR/netns-dir-mounted-by-lab"
  # A MAC of its own: a bridge without one takes the lowest of its ports', so a port
  # added or removed later (node-add, node-remove) could change it, and every
  # namespace's ARP entry for the host would point at the old one until it expires
  # (the runner's registry login timed out once right after node-remove).
  ip link add "$BRIDGE" address 02:77:00:00:00:01 type bridge
  ip addr add "$HOST_IP/24" dev "$BRIDGE"
  ip link set "$BRIDGE" up
  local n
  for n in "${NODES[@]}"; do ns_attach "$n" "${NODE_IP[$n]}"; done
  # Once a dockerd has run, bridged traffic goes through the host's FORWARD
  # chain (br_netfilter) whose policy it sets to DROP; let swl0<->swl0 through.
  iptables -C FORWARD -i "$BRIDGE" -o "$BRIDGE" -j ACCEPT 2>/dev/null ||
    iptables -I FORWARD -i "$BRIDGE" -o "$BRIDGE" -j ACCEPT
  # Belt and braces: never forward lab traffic anywhere else.
  iptables -C FORWARD -i "$BRIDGE" ! -o "$BRIDGE" -j DROP 2>/dev/null ||
    iptables -I FORWARD 2 -i "$BRIDGE" ! -o "$BRIDGE" -j DROP
}

net_down() {
  local n
  for n in "${NODES[@]}"; do
    # deleting the namespace destroys eth0 and with it its host-side peer
    ip netns del "$(ns "$n")" 2>/dev/null || true
    ip link del "swlh-$n" 2>/dev/null || true
  done
  ip link del "$BRIDGE" 2>/dev/null || true
  if [[ -e $RUN_DIR/netns-dir-mounted-by-lab ]] && [[ -z $(ls -A /run/netns 2>/dev/null) ]]; then
    umount /run/netns 2>/dev/null || true
  fi
  while iptables -D FORWARD -i "$BRIDGE" -o "$BRIDGE" -j ACCEPT 2>/dev/null; do :; done
  while iptables -D FORWARD -i "$BRIDGE" ! -o "$BRIDGE" -j DROP 2>/dev/null; do :; done
}

# ---------------------------------------------------------------- registry
registry_up() {
  local dir=$DATA_DIR/registry pw
  mkdir -p "$dir/data"
  pw=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
  echo "$pw" >"$RUN_DIR/registry.password"
  chmod 600 "$RUN_DIR/registry.password"
  htpasswd -Bbn "$REGISTRY_USER" "$pw" >"$dir/htpasswd"
  cat >"$dir/config.yml" <<EOF
version: 0.1
log:
  level: info
  fields: { service: registry }
storage:
  filesystem: { rootdirectory: $dir/data }
  delete: { enabled: true }
  cache: { blobdescriptor: inmemory }
http:
  addr: $REGISTRY
  secret: $(head -c 24 /dev/urandom | base64 | tr -d '/+=')
auth:
  htpasswd:
    realm: swarm-lab
    path: $dir/htpasswd
EOF
  log "registry: starting on $REGISTRY (user $REGISTRY_USER)"
  setsid docker-registry serve "$dir/config.yml" >"$LOG_DIR/registry.log" 2>&1 </dev/null &
  echo $! >"$(pidfile registry)"
  local i code
  for ((i = 0; i < 100; i++)); do
    code=$(curl -s -o /dev/null -w '%{http_code}' "http://$REGISTRY/v2/" || true)
    [[ $code == 401 ]] && return 0
    pid_alive "$(pidfile registry)" docker-registry || { tail -20 "$LOG_DIR/registry.log" >&2; die "registry exited"; }
    sleep 0.1
  done
  die "registry did not answer on $REGISTRY (last HTTP code: $code)"
}

# ---------------------------------------------------------------- docker daemons
# without_inherited_fds CMD...: exec CMD with only stdin, stdout and stderr. A
# daemon must not keep what this script was handed, such as the lab lock of
# `flock -x /work/lab.lock bash lab/lab.sh node-add`: the lock would be held
# as long as the daemon runs. Meant for a background subshell (`... &`).
without_inherited_fds() {
  local fd
  for fd in $(ls /proc/"$BASHPID"/fd); do
    ((fd > 2)) && eval "exec $fd>&-"
  done
  exec "$@"
}

dockerd_start() { # NODE
  local n=$1 i storage=overlay2 extra=()
  mkdir -p "$NODE_ROOT/$n" "$RUN_DIR/$n"
  # GitHub's runners: buildx's docker driver exports caches only from the
  # containerd image store, whose overlay snapshotter is "overlayfs".
  if [[ $ENGINE == 28 && $n == run ]]; then
    storage=overlayfs
    extra+=(--feature containerd-snapshotter=true)
  fi
  # nsenter --net (not `ip netns exec`, which remounts /sys and hides the
  # cgroup v1 mounts: "Devices cgroup isn't mounted"); unshare --uts gives the
  # node its own hostname, which swarm uses as the node name.
  without_inherited_fds env PATH="$(engine_path_prefix)$SYSTEM_PATH" \
  setsid nsenter --net="/var/run/netns/$(ns "$n")" unshare --uts sh -c '
      hostname "$0"; exec "$@"' "$(ns "$n")" \
    dockerd \
      --data-root "$NODE_ROOT/$n" \
      --exec-root "$RUN_DIR/$n" \
      --pidfile "$(pidfile "$n")" \
      --host "unix://$(sock "$n")" \
      --bip "${NODE_BIP[$n]}" \
      --default-address-pool base=172.31.0.0/16,size=24 \
      --cgroup-parent "/swl-$n" \
      --insecure-registry "$REGISTRY" \
      --storage-driver "$storage" \
      --shutdown-timeout 3 \
      "${extra[@]}" \
      >>"$LOG_DIR/$n.log" 2>&1 </dev/null &
  for ((i = 0; i < 600; i++)); do
    if [[ -S $(sock "$n") ]] && dk "$n" version >/dev/null 2>&1; then return 0; fi
    if ! kill -0 $! 2>/dev/null; then
      tail -30 "$LOG_DIR/$n.log" >&2
      die "dockerd $n exited during startup (log: $LOG_DIR/$n.log)"
    fi
    sleep 0.1
  done
  tail -30 "$LOG_DIR/$n.log" >&2
  die "dockerd $n did not come up in 60s (log: $LOG_DIR/$n.log)"
}

# Stop one dockerd, then anything it left behind that it had recorded itself
# (its managed containerd and the container shims), e.g. after a SIGKILL.
dockerd_stop() { # NODE
  local n=$1 f
  stop_pidfile "$(pidfile "$n")" "dockerd" 60
  for f in $(find "$RUN_DIR/$n" -name shim.pid 2>/dev/null); do
    stop_pid "$(<"$f")" containerd-shim 10
  done
  f=$RUN_DIR/$n/containerd/containerd.pid
  [[ -s $f ]] && stop_pid "$(<"$f")" containerd 20
  return 0
}

dockerd_up_all() {
  local n
  log "dockerd: starting ${NODES[*]}"
  for n in "${NODES[@]}"; do dockerd_start "$n"; done
}

# ---------------------------------------------------------------- base image
base_image_up() {
  local rootfs=$DATA_DIR/busybox-rootfs tarball=$DATA_DIR/busybox-image.tar a
  log "image: building $BASE_IMAGE from busybox-static"
  rm -rf "$rootfs"
  mkdir -p "$rootfs"/{bin,sbin,usr/bin,usr/sbin,etc,tmp,www,root,var/www}
  chmod 1777 "$rootfs/tmp"
  cp /bin/busybox "$rootfs/bin/busybox"
  # one link per applet, in the directory busybox itself says it belongs in
  for a in $(busybox --list-full); do
    [[ $a == bin/busybox ]] && continue
    mkdir -p "$rootfs/$(dirname "$a")"
    ln -sf /bin/busybox "$rootfs/$a"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$rootfs/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$rootfs/etc/group"
  echo "swarm-lab busybox" >"$rootfs/www/index.html"
  # Import once into the runner, then save/load so all daemons share one image ID.
  tar -C "$rootfs" --numeric-owner -c . | dk run import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["sh"]' - "$BASE_IMAGE" >/dev/null
  dk run save -o "$tarball" "$BASE_IMAGE"
  dk mgr load -q -i "$tarball" >/dev/null
  dk wrk load -q -i "$tarball" >/dev/null
  rm -f "$tarball"
  rm -rf "$rootfs"

  log "image: pushing $REGISTRY/$BASE_IMAGE"
  local cfg
  cfg=$(mktemp -d)
  local out
  # (login warns about unencrypted credentials on stderr: only show on failure)
  out=$(DOCKER_CONFIG=$cfg dk run login -u "$REGISTRY_USER" --password-stdin "$REGISTRY" \
    <"$RUN_DIR/registry.password" 2>&1) || { echo "$out" >&2; die "docker login to $REGISTRY failed"; }
  dk run tag "$BASE_IMAGE" "$REGISTRY/$BASE_IMAGE"
  DOCKER_CONFIG=$cfg dk run push -q "$REGISTRY/$BASE_IMAGE" >/dev/null
  rm -rf "$cfg"
}

# ---------------------------------------------------------------- prune-images job image
# The image of prune-images' jobs (docs/prune-images.md): the lab cannot pull
# docker:cli, so it is the base image with the runner's docker CLI (a static
# binary) added, built on each node. Loaded, not pulled: the jobs carry no
# registry credential, and the lab registry wants one. Idempotent.
JOB_IMAGE=lab/docker-cli:1
job_image_up() {
  local n dir
  file -L /usr/local/bin/docker | grep -q 'statically linked' || die "/usr/local/bin/docker is not a static binary"
  dir=$(mktemp -d)
  cp /usr/local/bin/docker "$dir/docker"
  printf 'FROM %s\nCOPY docker /usr/local/bin/docker\n' "$BASE_IMAGE" >"$dir/Dockerfile"
  for n in mgr wrk; do
    dk "$n" image inspect "$JOB_IMAGE" >/dev/null 2>&1 && continue
    log "image: building $JOB_IMAGE on $n"
    # The nodes have no buildx; the classic builder needs nothing pulled (FROM the base image they hold).
    DOCKER_BUILDKIT=0 dk "$n" build -q -t "$JOB_IMAGE" "$dir" >/dev/null 2>&1 || { rm -rf "$dir"; die "building $JOB_IMAGE on $n failed"; }
  done
  rm -rf "$dir"
  # Each node's engine socket by its hostname: the jobs mount `/run/swl/{{.Node.Hostname}}.sock` (prune-docker-socket).
  for n in mgr wrk; do ln -sfn "$n.sock" "$(host_sock "$n")"; done
}

# ---------------------------------------------------------------- swarm
swarm_up() {
  log "swarm: init on swl-mgr ($MGR_IP), join swl-wrk (${NODE_IP[wrk]})"
  dk mgr swarm init --advertise-addr "$MGR_IP" --listen-addr "$MGR_IP:2377" \
    --default-addr-pool "$SWARM_ADDR_POOL" --default-addr-pool-mask-length 24 >/dev/null
  local token
  token=$(dk mgr swarm join-token -q worker)
  dk wrk swarm join --token "$token" --advertise-addr "${NODE_IP[wrk]}" \
    --listen-addr "${NODE_IP[wrk]}:2377" "$MGR_IP:2377" >/dev/null
  wait_nodes_ready 60
}

# wait_nodes_ready SECONDS: both nodes Ready in the manager's view
wait_nodes_ready() {
  local i
  for ((i = 0; i < $1 * 2; i++)); do
    [[ $(nodes_ready) == 2 ]] && return 0
    sleep 0.5
  done
  dk mgr node ls >&2 || true
  die "swarm nodes not Ready after $1s"
}

nodes_ready() {
  dk mgr node ls --format '{{.Hostname}} {{.Status}}' 2>/dev/null |
    grep -cE '^swl-(mgr|wrk) Ready$' || true
}

# ---------------------------------------------------------------- sshd
sshd_config_write() {
  mkdir -p "$SSH_DIR" /run/sshd
  chmod 700 "$SSH_DIR"
  local t
  for t in ed25519 ecdsa rsa; do
    [[ -f $SSH_DIR/ssh_host_${t}_key ]] ||
      ssh-keygen -q -t "$t" -N '' -C "swl-mgr" -f "$SSH_DIR/ssh_host_${t}_key"
  done
  [[ -f $CLIENT_KEY ]] || ssh-keygen -q -t ed25519 -N '' -C swarm-lab -f "$CLIENT_KEY"
  chmod 600 "$CLIENT_KEY"
  cp "$CLIENT_KEY.pub" "$SSH_DIR/authorized_keys"
  chmod 600 "$SSH_DIR/authorized_keys"
  # known_hosts straight from the host key files (no ssh-keyscan needed)
  : >"$SSH_DIR/known_hosts"
  for t in ed25519 ecdsa rsa; do
    echo "$MGR_IP $(cut -d' ' -f1,2 "$SSH_DIR/ssh_host_${t}_key.pub")" >>"$SSH_DIR/known_hosts"
  done
  cat >"$SSH_DIR/sshd_config" <<EOF
# swarm-lab sshd for the manager node (only listens inside netns swl-mgr)
ListenAddress $MGR_IP
Port 22
HostKey $SSH_DIR/ssh_host_ed25519_key
HostKey $SSH_DIR/ssh_host_ecdsa_key
HostKey $SSH_DIR/ssh_host_rsa_key
PidFile $(pidfile sshd)
AuthorizedKeysFile $SSH_DIR/authorized_keys
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes yes
X11Forwarding no
PrintMotd no
# Deploys open many sessions in a row (one docker dial-stdio per API client)
MaxSessions 64
MaxStartups 64:30:128
# SHLVL=1: Debian's bash sources ~/.bashrc for a command sshd starts only at
# shell level 1; this machine's root .bashrc runs pyenv init (0.2-4 s a session
# under load), which a manager's shell would not. A session now starts at once.
SetEnv DOCKER_HOST=unix://$(sock mgr) SHLVL=1
Subsystem sftp internal-sftp
EOF
}

sshd_start() {
  local dpid i
  dpid=$(<"$(pidfile mgr)")
  # Same network and UTS (hostname swl-mgr) namespaces as the manager dockerd.
  /usr/sbin/sshd -t -f "$SSH_DIR/sshd_config"
  nsenter --net="/var/run/netns/$(ns mgr)" --uts="/proc/$dpid/ns/uts" \
    /usr/sbin/sshd -f "$SSH_DIR/sshd_config" -E "$LOG_DIR/sshd.log" </dev/null
  for ((i = 0; i < 50; i++)); do
    pid_alive "$(pidfile sshd)" sshd && (exec 3<>"/dev/tcp/$MGR_IP/22") 2>/dev/null && return 0
    sleep 0.1
  done
  tail -20 "$LOG_DIR/sshd.log" >&2
  die "sshd did not come up on $MGR_IP:22"
}

sshd_up() {
  log "sshd: starting on $MGR_IP:22"
  sshd_config_write
  sshd_start
}

ssh_lab() { # run a command on the manager over ssh
  ssh -i "$CLIENT_KEY" -o UserKnownHostsFile="$SSH_DIR/known_hosts" -o StrictHostKeyChecking=yes \
    -o BatchMode=yes -o ConnectTimeout=5 "root@$MGR_IP" "$@"
}

# ---------------------------------------------------------------- outputs
write_lab_json() {
  local pw
  pw=$(<"$RUN_DIR/registry.password")
  umask 077
  LAB_PW=$pw LAB_KH=$(<"$SSH_DIR/known_hosts") node -e '
    const fs = require("fs");
    const j = {
      registry: process.argv[1], registryUser: process.argv[2],
      registryPassword: process.env.LAB_PW,
      sshHost: process.argv[3], sshPort: 22, sshUser: "root",
      sshKeyFile: process.argv[4], knownHosts: process.env.LAB_KH + "\n",
      managerDockerHost: "unix://" + process.argv[5],
      workerDockerHost: "unix://" + process.argv[6],
      runnerDockerHost: "unix://" + process.argv[7],
      baseImage: process.argv[8], managerNode: "swl-mgr", workerNode: "swl-wrk",
      engine: process.argv[10], engineVersion: process.argv[11],
      managerDataRoot: process.argv[12],
    };
    fs.writeFileSync(process.argv[9], JSON.stringify(j, null, 2) + "\n", { mode: 0o600 });
  ' "$REGISTRY" "$REGISTRY_USER" "$MGR_IP" "$CLIENT_KEY" "$(sock mgr)" "$(sock wrk)" "$(sock run)" \
    "$BASE_IMAGE" "$LAB_JSON" "$ENGINE" "$(dk mgr version --format '{{.Server.Version}}')" "$NODE_ROOT/mgr"
  chmod 600 "$LAB_JSON"
}

cmd_env() {
  [[ -s $LAB_JSON ]] || die "$LAB_JSON not found; run: bash lab/lab.sh up"
  node -e '
    const j = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const q = (v) => "'\''" + String(v).replace(/'\''/g, "'\''\\'\'''\''") + "'\''";
    for (const [k, v] of Object.entries(j)) {
      const name = "LAB_" + k.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toUpperCase();
      console.log(`export ${name}=${q(v)}`);
    }
    console.log(`export LAB_JSON=${q(process.argv[1])}`);
  ' "$LAB_JSON"
}

# ---------------------------------------------------------------- health
# health_report: one line per component; 0 if all are up and answering.
health_report() {
  local ok=0 n code
  for n in "${NODES[@]}"; do
    if pid_alive "$(pidfile "$n")" dockerd && dk "$n" version >/dev/null 2>&1; then
      echo "dockerd $n: up ($(sock "$n"))"
    else
      echo "dockerd $n: DOWN"; ok=1
    fi
  done
  if pid_alive "$(pidfile registry)" docker-registry; then
    code=$(curl -s -m 3 -o /dev/null -w '%{http_code}' "http://$REGISTRY/v2/" || true)
    if [[ $code == 401 ]]; then echo "registry: up ($REGISTRY)"; else echo "registry: not answering (HTTP $code)"; ok=1; fi
  else
    echo "registry: DOWN"; ok=1
  fi
  if pid_alive "$(pidfile sshd)" sshd && (exec 3<>"/dev/tcp/$MGR_IP/22") 2>/dev/null; then
    echo "sshd: up ($MGR_IP:22)"
  else
    echo "sshd: DOWN"; ok=1
  fi
  local ready
  ready=$(nodes_ready)
  if [[ $ready == 2 ]]; then echo "swarm: 2/2 nodes Ready"; else echo "swarm: $ready/2 nodes Ready"; ok=1; fi
  [[ -s $LAB_JSON ]] || { echo "lab.json: missing"; ok=1; }
  return $ok
}

cmd_status() {
  local rc=0
  health_report || rc=$?
  node3_status
  if pid_alive "$(pidfile mgr)" dockerd; then
    echo; dk mgr node ls 2>&1 || true
  fi
  ((rc == 0)) && echo "lab: healthy" || echo "lab: UNHEALTHY"
  return $rc
}

# ---------------------------------------------------------------- up / down
on_up_exit() {
  local rc=$?
  ((rc == 0)) || log "up FAILED (exit $rc). Logs: $LOG_DIR/*.log. Re-run 'up' to tear down and rebuild."
}

cmd_up() {
  local t0=$SECONDS
  [[ $EUID == 0 ]] || die "must run as root"
  if [[ -d $RUN_DIR ]] && health_report >/dev/null 2>&1; then
    log "already up and healthy"
    return 0
  fi
  install_packages
  engine_fetch
  if [[ -e $RUN_DIR || -e $DATA_DIR ]] || ip link show "$BRIDGE" >/dev/null 2>&1; then
    log "found a partial lab; tearing it down first"
    cmd_down
  fi
  trap on_up_exit EXIT
  mkdir -p "$RUN_DIR" "$LOG_DIR"
  chmod 700 "$RUN_DIR"
  echo "$ENGINE" >"$ENGINE_FILE"
  log "engine $ENGINE: $(env PATH="$(engine_path_prefix)$SYSTEM_PATH" dockerd --version)"
  cli_plugins_up
  net_up
  registry_up
  dockerd_up_all
  swarm_up
  base_image_up
  job_image_up
  sshd_up
  write_lab_json
  ssh_lab docker node ls >/dev/null || die "ssh to the manager does not reach docker"
  health_report >&2 || die "lab is not healthy after up"
  log "up in $((SECONDS - t0))s; details in $LAB_JSON"
}

# The daemons' (now empty) cgroup v1 parents, e.g. /sys/fs/cgroup/memory/swl-mgr.
cgroups_down() { # NODE...
  local n d
  for n in "$@"; do
    for d in /sys/fs/cgroup/*/"swl-$n"; do
      [[ -d $d ]] || continue
      find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null || log "could not remove cgroup $d"
    done
  done
}

# Unmount everything mounted below a directory, deepest first.
cmd_down() {
  [[ $EUID == 0 ]] || die "must run as root"
  log "down: stopping sshd, dockerd (${NODES[*]}), registry"
  extras_down
  stop_pidfile "$(pidfile sshd)" sshd 10
  local n pids=()
  # Kill the containers first: swarm tasks carry their own 10s stop grace
  # period (busybox httpd as PID 1 ignores SIGTERM), which would make every
  # daemon shutdown take 10s+.
  for n in "${NODES[@]}"; do
    pid_alive "$(pidfile "$n")" dockerd || continue
    dk "$n" ps -q 2>/dev/null | xargs -r timeout 20 docker -H "unix://$(sock "$n")" kill >/dev/null 2>&1 || true
  done
  # stop the daemons in parallel (each takes a few seconds to shut down)
  for n in "${NODES[@]}"; do dockerd_stop "$n" & pids+=($!); done
  for n in "${pids[@]}"; do wait "$n" || true; done
  stop_pidfile "$(pidfile registry)" docker-registry 10
  log "down: unmounting, removing network and files"
  cli_plugins_down
  cgroups_down "${NODES[@]}"
  umount_below "$RUN_DIR"
  umount_below "$DATA_DIR"
  net_down
  rm -rf "$RUN_DIR" "$DATA_DIR"
  log "down: done"
}

cmd_worker_stop() {
  log "stopping worker dockerd"
  dockerd_stop wrk
  umount_below "$RUN_DIR/wrk"
  # Tests want a node the manager already sees as Down (takes ~10s).
  local i
  for ((i = 0; i < 120; i++)); do
    dk mgr node ls --format '{{.Hostname}} {{.Status}}' 2>/dev/null | grep -qx 'swl-wrk Down' && {
      log "manager reports swl-wrk Down"; return 0; }
    sleep 0.5
  done
  die "manager did not report swl-wrk Down within 60s"
}

cmd_worker_start() {
  if pid_alive "$(pidfile wrk)" dockerd; then log "worker dockerd already running"; return 0; fi
  log "starting worker dockerd (keeps its data root, so it rejoins the swarm)"
  dockerd_start wrk
  wait_nodes_ready 60
}

# Restart only the manager's dockerd, on the same data root: the swarm (raft
# state, services, configs) comes back from disk. Only the pids it recorded
# are stopped; waits until both nodes are Ready again.
cmd_manager_restart() {
  pid_alive "$(pidfile mgr)" dockerd || die "manager dockerd is not running"
  log "restarting manager dockerd (keeps its data root and the swarm)"
  dockerd_stop mgr
  umount_below "$RUN_DIR/mgr"
  dockerd_start mgr
  wait_nodes_ready 90
  log "manager dockerd back; both nodes Ready"
}

cmd_sshd_restart() {
  log "restarting manager sshd"
  stop_pidfile "$(pidfile sshd)" sshd 10
  # The config anew (same keys), so a changed lab.sh takes effect without a rebuild.
  sshd_config_write
  sshd_start
}

# descendants PID: every descendant of PID, parents before their children
# (read from /proc/<pid>/task/*/children, so nothing is matched by name).
descendants() {
  local pid=$1 child
  for child in $(cat /proc/"$pid"/task/*/children 2>/dev/null); do
    [[ $child =~ ^[0-9]+$ ]] || continue
    echo "$child"
    descendants "$child"
  done
}

# End every established SSH session (the listener's per-connection sshd
# processes and their sshd children); the listener keeps running, so new
# connections work at once. Clients see their connection drop.
cmd_sshd_drop() {
  local f listener pid pids=() n=0
  f=$(pidfile sshd)
  pid_alive "$f" sshd || die "manager sshd is not running ($f)"
  listener=$(<"$f")
  mapfile -t pids < <(descendants "$listener")
  for pid in "${pids[@]}"; do
    # only sshd processes (per-connection and privilege-separated children).
    # Session commands are not killed: `docker system dial-stdio` exits on
    # EOF, but one that ignores its stdio (e.g. `sleep 60`) is reparented.
    [[ -r /proc/$pid/cmdline ]] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- sshd || continue
    stop_pid "$pid" sshd 10
    n=$((n + 1))
  done
  pid_alive "$f" sshd || die "the sshd listener went away"
  log "dropped $n sshd session process(es); listener $listener still running"
}

# ---------------------------------------------------------------- extra sshds
# Added on demand by the tests that need them (`lab.sh extra-sshd up|down`),
# so `up` and `status` do not look for them: a running lab is not rebuilt for
# them. Each records its pid like the rest; `down` stops them too.
EXTRA_DIR=$RUN_DIR/extra
EXTRA_PORT=2201

# stop_sshd_tree PIDFILE: the listener and every sshd below it (its sessions),
# found through /proc, never by name; clients see their connections drop.
stop_sshd_tree() {
  local f=$1 listener pid pids=()
  pid_alive "$f" sshd || { rm -f "$f"; return 0; }
  listener=$(<"$f")
  mapfile -t pids < <(descendants "$listener")
  stop_pid "$listener" sshd 10
  for pid in "${pids[@]}"; do
    [[ -r /proc/$pid/cmdline ]] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- sshd || continue
    stop_pid "$pid" sshd 10
  done
  rm -f "$f"
}

# A second listener on the manager, port 2201, with OpenSSH's default
# MaxSessions 10 and the manager's host keys. It also accepts an RSA key in
# PEM format encrypted with a random passphrase (extra/id_rsa_pem and
# extra/id_rsa_pem.passphrase). extra/extra.json says where everything is.
cmd_extra_sshd_up() {
  [[ -s $LAB_JSON ]] || die "no lab: run lab.sh up first"
  mkdir -p "$EXTRA_DIR"
  chmod 700 "$EXTRA_DIR"
  local key=$EXTRA_DIR/id_rsa_pem pw_file=$EXTRA_DIR/id_rsa_pem.passphrase
  if [[ ! -s $key ]]; then
    (umask 077; head -c 18 /dev/urandom | base64 | tr -d '/+=' >"$pw_file")
    # The format `ssh-keygen -m PEM` writes (PKCS#1, AES-128-CBC), made by
    # node so that the passphrase goes from its file to no command line.
    node -e '
      const fs = require("fs"), crypto = require("crypto");
      const [key, pwFile] = process.argv.slice(1);
      const pair = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
      const pem = pair.privateKey.export({ type: "pkcs1", format: "pem", cipher: "aes-128-cbc", passphrase: fs.readFileSync(pwFile, "utf8").trim() });
      fs.writeFileSync(key, pem, { mode: 0o600 });
      // The public key as an authorized_keys line: string "ssh-rsa", mpint e, mpint n.
      const jwk = pair.publicKey.export({ format: "jwk" });
      const str = b => { const len = Buffer.alloc(4); len.writeUInt32BE(b.length); return Buffer.concat([len, b]); };
      const mpint = b64 => { let b = Buffer.from(b64, "base64url"); if (b[0] & 0x80) b = Buffer.concat([Buffer.from([0]), b]); return str(b); };
      const blob = Buffer.concat([str(Buffer.from("ssh-rsa")), mpint(jwk.e), mpint(jwk.n)]);
      fs.writeFileSync(key + ".pub", `ssh-rsa ${blob.toString("base64")} swarm-lab-pem\n`);
    ' "$key" "$pw_file"
  fi
  cat "$SSH_DIR/authorized_keys" "$key.pub" >"$EXTRA_DIR/authorized_keys"
  chmod 600 "$EXTRA_DIR/authorized_keys"
  cat >"$EXTRA_DIR/sshd_config" <<END_CONFIG
# swarm-lab: a second sshd on the manager (lab.sh extra-sshd)
ListenAddress $MGR_IP
Port $EXTRA_PORT
HostKey $SSH_DIR/ssh_host_ed25519_key
HostKey $SSH_DIR/ssh_host_ecdsa_key
HostKey $SSH_DIR/ssh_host_rsa_key
PidFile $EXTRA_DIR/sshd.pid
AuthorizedKeysFile $EXTRA_DIR/authorized_keys
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes yes
X11Forwarding no
PrintMotd no
# OpenSSH's default, unlike the lab's main sshd
MaxSessions 10
# SHLVL=1: Debian's bash sources ~/.bashrc for a command sshd starts only at
# shell level 1; this machine's root .bashrc runs pyenv init (0.2-4 s a session
# under load), which a manager's shell would not. A session now starts at once.
SetEnv DOCKER_HOST=unix://$(sock mgr) SHLVL=1
END_CONFIG
  node -e '
    const fs = require("fs");
    const [file, host, port, key, pw, known] = process.argv.slice(1);
    const lines = fs.readFileSync(known, "utf8").trim().split("\n");
    const knownHosts = lines.map(l => `[${host}]:${port} ` + l.split(" ").slice(1).join(" ")).join("\n") + "\n";
    fs.writeFileSync(file, JSON.stringify({ host, port: Number(port), knownHosts, keyFile: key, passphraseFile: pw }, null, 2) + "\n", { mode: 0o600 });
  ' "$EXTRA_DIR/extra.json" "$MGR_IP" "$EXTRA_PORT" "$key" "$pw_file" "$SSH_DIR/known_hosts"
  if pid_alive "$EXTRA_DIR/sshd.pid" sshd && (exec 3<>"/dev/tcp/$MGR_IP/$EXTRA_PORT") 2>/dev/null; then
    log "extra sshd already up on $MGR_IP:$EXTRA_PORT"
    return 0
  fi
  local dpid i
  dpid=$(<"$(pidfile mgr)")
  /usr/sbin/sshd -t -f "$EXTRA_DIR/sshd_config"
  nsenter --net="/var/run/netns/$(ns mgr)" --uts="/proc/$dpid/ns/uts" \
    /usr/sbin/sshd -f "$EXTRA_DIR/sshd_config" -E "$LOG_DIR/extra-sshd.log" </dev/null
  for ((i = 0; i < 50; i++)); do
    if pid_alive "$EXTRA_DIR/sshd.pid" sshd && (exec 3<>"/dev/tcp/$MGR_IP/$EXTRA_PORT") 2>/dev/null; then
      log "extra sshd up on $MGR_IP:$EXTRA_PORT (MaxSessions 10)"
      return 0
    fi
    sleep 0.1
  done
  tail -20 "$LOG_DIR/extra-sshd.log" >&2
  die "extra sshd did not come up on $MGR_IP:$EXTRA_PORT"
}

cmd_extra_sshd_down() {
  stop_sshd_tree "$EXTRA_DIR/sshd.pid"
  log "extra sshd on $MGR_IP:$EXTRA_PORT stopped, with its sessions"
}

extras_down() {
  if [[ -e /var/run/netns/$N3_HOSTNAME || -s $N3_JSON || -s $(pidfile "$N3") ]]; then cmd_node_remove; fi
  [[ -d $EXTRA_DIR ]] && stop_sshd_tree "$EXTRA_DIR/sshd.pid"
  if [[ -d $BASTION_DIR || -e /var/run/netns/swl-bst ]]; then cmd_bastion_down; fi
  return 0
}

# A bastion in its own namespace, swl-bst 10.77.0.5 (sshd on :22, its own
# host key, the lab's client key, TCP forwarding allowed), and one more sshd
# on the manager, 10.77.0.2:2202, that answers only the bastion's address
# (an iptables rule in swl-mgr resets every other source).
# bastion/bastion.json says where everything is.
BASTION_DIR=$RUN_DIR/bastion
BASTION_IP=$SUBNET_PREFIX.5
BASTION_MGR_PORT=2202

bastion_rule() { # -C|-I|-D: the manager-side filter for port 2202
  nsenter --net="/var/run/netns/$(ns mgr)" iptables "$1" INPUT -p tcp --dport "$BASTION_MGR_PORT" ! -s "$BASTION_IP" \
    -j REJECT --reject-with tcp-reset
}

bastion_sshd_config() { # FILE LISTEN PORT PIDFILE
  cat >"$1" <<END_CONFIG
# swarm-lab (lab.sh bastion)
ListenAddress $2
Port $3
HostKey $BASTION_DIR/ssh_host_ed25519_key
PidFile $4
AuthorizedKeysFile $SSH_DIR/authorized_keys
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes yes
X11Forwarding no
PrintMotd no
AllowTcpForwarding yes
# SHLVL=1: Debian's bash sources ~/.bashrc for a command sshd starts only at
# shell level 1; this machine's root .bashrc runs pyenv init (0.2-4 s a session
# under load), which a manager's shell would not. A session now starts at once.
SetEnv DOCKER_HOST=unix://$(sock mgr) SHLVL=1
END_CONFIG
}

# wait_listening PIDFILE IP PORT LOG
wait_listening() {
  local i
  for ((i = 0; i < 50; i++)); do
    pid_alive "$1" sshd && (exec 3<>"/dev/tcp/$2/$3") 2>/dev/null && return 0
    sleep 0.1
  done
  tail -20 "$4" >&2
  die "sshd did not come up on $2:$3"
}

cmd_bastion_up() {
  [[ -s $LAB_JSON ]] || die "no lab: run lab.sh up first"
  mkdir -p "$BASTION_DIR" /run/sshd
  chmod 700 "$BASTION_DIR"
  [[ -f $BASTION_DIR/ssh_host_ed25519_key ]] || ssh-keygen -q -t ed25519 -N '' -C swl-bst -f "$BASTION_DIR/ssh_host_ed25519_key"
  [[ -e /var/run/netns/swl-bst ]] || ns_attach bst "$BASTION_IP"
  bastion_rule -C 2>/dev/null || bastion_rule -I
  # The manager's host keys for the manager-side listener.
  local key
  bastion_sshd_config "$BASTION_DIR/bastion_sshd_config" "$BASTION_IP" 22 "$BASTION_DIR/sshd.pid"
  bastion_sshd_config "$BASTION_DIR/mgr_sshd_config" "$MGR_IP" "$BASTION_MGR_PORT" "$BASTION_DIR/mgr-sshd.pid"
  sed -i "s|^HostKey .*|HostKey $SSH_DIR/ssh_host_ed25519_key|" "$BASTION_DIR/mgr_sshd_config"
  if ! pid_alive "$BASTION_DIR/sshd.pid" sshd; then
    /usr/sbin/sshd -t -f "$BASTION_DIR/bastion_sshd_config"
    nsenter --net=/var/run/netns/swl-bst /usr/sbin/sshd -f "$BASTION_DIR/bastion_sshd_config" -E "$LOG_DIR/bastion-sshd.log" </dev/null
  fi
  if ! pid_alive "$BASTION_DIR/mgr-sshd.pid" sshd; then
    local dpid
    dpid=$(<"$(pidfile mgr)")
    /usr/sbin/sshd -t -f "$BASTION_DIR/mgr_sshd_config"
    nsenter --net="/var/run/netns/$(ns mgr)" --uts="/proc/$dpid/ns/uts" \
      /usr/sbin/sshd -f "$BASTION_DIR/mgr_sshd_config" -E "$LOG_DIR/bastion-mgr-sshd.log" </dev/null
  fi
  wait_listening "$BASTION_DIR/sshd.pid" "$BASTION_IP" 22 "$LOG_DIR/bastion-sshd.log"
  # From here (10.77.0.1) the manager-side listener resets: check from the bastion instead.
  local i
  for ((i = 0; i < 50; i++)); do
    pid_alive "$BASTION_DIR/mgr-sshd.pid" sshd &&
      nsenter --net=/var/run/netns/swl-bst bash -c "exec 3<>/dev/tcp/$MGR_IP/$BASTION_MGR_PORT" 2>/dev/null && break
    sleep 0.1
  done
  ((i < 50)) || { tail -20 "$LOG_DIR/bastion-mgr-sshd.log" >&2; die "manager sshd did not come up on $MGR_IP:$BASTION_MGR_PORT"; }
  key=$(cut -d' ' -f1,2 "$BASTION_DIR/ssh_host_ed25519_key.pub")
  node -e '
    const fs = require("fs");
    const [file, host, key, mgrHost, mgrPort, mgrKey] = process.argv.slice(1);
    const j = { host, port: 22, knownHosts: `${host} ${key}\n`, managerHost: mgrHost, managerPort: Number(mgrPort), managerKnownHosts: `[${mgrHost}]:${mgrPort} ${mgrKey}\n` };
    fs.writeFileSync(file, JSON.stringify(j, null, 2) + "\n", { mode: 0o600 });
  ' "$BASTION_DIR/bastion.json" "$BASTION_IP" "$key" "$MGR_IP" "$BASTION_MGR_PORT" "$(cut -d' ' -f1,2 "$SSH_DIR/ssh_host_ed25519_key.pub")"
  log "bastion up: sshd $BASTION_IP:22; manager sshd $MGR_IP:$BASTION_MGR_PORT answers only $BASTION_IP"
}

cmd_bastion_down() {
  stop_sshd_tree "$BASTION_DIR/sshd.pid"
  stop_sshd_tree "$BASTION_DIR/mgr-sshd.pid"
  if [[ -e /var/run/netns/$(ns mgr) ]]; then
    while bastion_rule -D 2>/dev/null; do :; done
  fi
  ip netns del swl-bst 2>/dev/null || true
  ip link del swlh-bst 2>/dev/null || true
  log "bastion down"
}

# ---------------------------------------------------------------- registry-user
# A second htpasswd user beside "lab", for a test that changes its password
# (the refresh test) without touching the password every other run uses.
# The registry (distribution 2.8) re-reads its htpasswd file whenever the
# file's mtime changes (registry/auth/htpasswd/access.go): no restart. The
# new file is written beside it and renamed over it, so a request never reads
# half a file. `down` removes it with the rest; `up` writes a fresh file.
cmd_registry_user() { # set|rm NAME
  [[ $EUID == 0 ]] || die "must run as root"
  local action=${1:-} name=${2:-} file=$DATA_DIR/registry/htpasswd tmp pw="" i code
  [[ $action == set || $action == rm ]] || { echo "usage: $0 registry-user set|rm NAME" >&2; exit 2; }
  [[ $name =~ ^[a-z0-9][a-z0-9_-]{0,62}$ && $name != "$REGISTRY_USER" ]] || die "registry-user: '$name' is not a user name (a-z, 0-9, _ and -) other than $REGISTRY_USER"
  [[ -f $file ]] || die "registry-user: no $file (is the lab up?)"
  if [[ $action == set ]]; then
    IFS= read -r pw || true
    [[ $pw =~ ^[A-Za-z0-9._~-]{8,128}$ ]] || die "registry-user set: give a password of 8 to 128 characters A-Z a-z 0-9 . _ ~ - on stdin"
  fi
  # Two helpers editing at once must not lose each other's lines.
  exec 8>"$RUN_DIR/htpasswd.lock"
  flock 8
  tmp=$(mktemp "$file.XXXXXX")
  cp "$file" "$tmp"
  if [[ $action == set ]]; then
    printf '%s\n' "$pw" | htpasswd -iB "$tmp" "$name" 2>/dev/null || { rm -f "$tmp"; die "registry-user: htpasswd failed"; }
  else
    htpasswd -D "$tmp" "$name" >/dev/null 2>&1 || true
  fi
  chmod 644 "$tmp"
  mv -f "$tmp" "$file"
  flock -u 8
  [[ $action == set ]] || { log "registry-user: removed $name"; return 0; }
  # The password stays off argv: curl reads it from its config on stdin.
  for ((i = 0; i < 50; i++)); do
    code=$(printf 'user = "%s:%s"\n' "$name" "$pw" | curl -s -o /dev/null -w '%{http_code}' -K - "http://$REGISTRY/v2/" || true)
    [[ $code == 200 ]] && { log "registry-user: $name set"; return 0; }
    sleep 0.1
  done
  die "registry-user: the registry does not accept the new password of $name (last HTTP code: $code)"
}

main() {
  local cmd=${1:-}
  # `down` takes down whatever runs, whichever engine.
  case $cmd in
    down) ;;
    engine-path) resolve_engine any ;;
    *) resolve_engine ;;
  esac
  case $cmd in
    engine-path) engine_fetch; engine_path_prefix ;;
    up) cmd_up ;;
    down) cmd_down ;;
    status) cmd_status ;;
    env) cmd_env ;;
    worker-stop) cmd_worker_stop ;;
    worker-start) cmd_worker_start ;;
    manager-restart) cmd_manager_restart ;;
    sshd-restart) cmd_sshd_restart ;;
    sshd-drop) cmd_sshd_drop ;;
    extra-sshd)
      case ${2:-} in
        up) cmd_extra_sshd_up ;;
        down) cmd_extra_sshd_down ;;
        *) echo "usage: $0 extra-sshd up|down" >&2; exit 2 ;;
      esac ;;
    bastion)
      case ${2:-} in
        up) cmd_bastion_up ;;
        down) cmd_bastion_down ;;
        *) echo "usage: $0 bastion up|down" >&2; exit 2 ;;
      esac ;;
    job-image) job_image_up ;;
    registry-user) cmd_registry_user "${2:-}" "${3:-}" ;;
    node-add) cmd_node_add ;;
    node-remove) cmd_node_remove ;;
    *) echo "usage: $0 up|down|status|env|engine-path|worker-stop|worker-start|manager-restart|sshd-restart|sshd-drop|extra-sshd up|down|bastion up|down|registry-user set|rm NAME|node-add|node-remove" >&2; exit 2 ;;
  esac
}

main "$@"
