# Sourced by lab/lab.sh: a third swarm node on demand (`lab.sh node-add` /
# `node-remove`), for the tests of a node that joins a running swarm
# (capacity waits, rebalance). It is built like swl-wrk: its own namespace
# swl-n3 at 10.77.0.6 on the bridge, its own dockerd (the lab's engine, data
# root $NODE_ROOT/n3, socket /run/swl/n3.sock, the lab registry trusted as
# the worker's is) and joins as a worker. Not part of `up` or the health that
# `up` checks, so adding it never rebuilds a running lab; `status` shows it
# and `down` removes it. Uses lab.sh's helpers (ns_attach, dockerd_start,
# dockerd_stop, cgroups_down, dk, pidfile...).

N3=n3
N3_IP=$SUBNET_PREFIX.6
N3_HOSTNAME=$(ns "$N3")
N3_JSON=$RUN_DIR/node3.json      # node id, hostname, socket, address, for the tests
NODE_BIP[$N3]=172.30.4.1/24

n3_node_id() { [[ -s $N3_JSON ]] && node -p 'JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).nodeId' "$N3_JSON"; }

# The manager's view of a node: ready|down|unknown|... (empty if it has none).
n3_state_in_swarm() { # NODE_ID
  timeout 20 docker -H "unix://$(sock mgr)" node inspect "$1" --format '{{.Status.State}}' 2>/dev/null || true
}

# Every node the manager lists as swl-n3 (a join that was never removed, e.g.
# after a crash, leaves one behind as Down).
n3_swarm_ids() {
  timeout 20 docker -H "unix://$(sock mgr)" node ls --format '{{.ID}} {{.Hostname}}' 2>/dev/null |
    awk -v h="$N3_HOSTNAME" '$2 == h {print $1}' || true
}

cmd_node_add() {
  [[ $EUID == 0 ]] || die "must run as root"
  [[ -s $LAB_JSON ]] || die "no lab: run lab.sh up first"
  local id state token i
  id=$(n3_node_id || true)
  if [[ -n $id ]] && pid_alive "$(pidfile "$N3")" dockerd && [[ $(n3_state_in_swarm "$id") == ready ]]; then
    log "node $N3_HOSTNAME already in the swarm ($id, Ready)"
    return 0
  fi
  [[ -e /var/run/netns/$N3_HOSTNAME ]] || ns_attach "$N3" "$N3_IP"
  pid_alive "$(pidfile "$N3")" dockerd || { log "node-add: starting dockerd $N3 ($N3_IP)"; dockerd_start "$N3"; }
  # Like the other nodes, it has the lab's base image and prune-images' job image
  # under their local names, and its socket linked by hostname (job_image_up).
  local image
  for image in "$BASE_IMAGE" "$JOB_IMAGE"; do
    dk "$N3" image inspect "$image" >/dev/null 2>&1 || dk wrk save "$image" | dk "$N3" load -q >/dev/null
  done
  ln -sfn "$N3.sock" "$(host_sock "$N3")"
  if [[ $(dk "$N3" info --format '{{.Swarm.LocalNodeState}}') != active ]]; then
    log "node-add: joining the swarm as a worker"
    token=$(dk mgr swarm join-token -q worker)
    dk "$N3" swarm join --token "$token" --advertise-addr "$N3_IP" --listen-addr "$N3_IP:2377" "$MGR_IP:2377" >/dev/null
  fi
  id=$(dk "$N3" info --format '{{.Swarm.NodeID}}')
  [[ -n $id ]] || die "node-add: $N3_HOSTNAME has no swarm node id after joining"
  (umask 077; printf '{ "nodeId": "%s", "hostname": "%s", "ip": "%s", "dockerHost": "unix://%s" }\n' \
    "$id" "$N3_HOSTNAME" "$N3_IP" "$(sock "$N3")" >"$N3_JSON")
  for ((i = 0; i < 120; i++)); do
    state=$(n3_state_in_swarm "$id")
    [[ $state == ready ]] && { log "node $N3_HOSTNAME joined ($id, Ready)"; return 0; }
    sleep 0.5
  done
  die "node-add: the manager does not report $N3_HOSTNAME Ready within 60s (state: ${state:-none}; log: $LOG_DIR/$N3.log)"
}

# The node leaves (its tasks stop there and Swarm starts them elsewhere), the
# manager forgets it, then its dockerd (by its pidfile), mounts, cgroup,
# namespace and data go. Safe to run when nothing of it is left.
cmd_node_remove() {
  [[ $EUID == 0 ]] || die "must run as root"
  local id
  if pid_alive "$(pidfile "$N3")" dockerd; then
    [[ $(dk "$N3" info --format '{{.Swarm.LocalNodeState}}' 2>/dev/null) == inactive ]] ||
      timeout 30 docker -H "unix://$(sock "$N3")" swarm leave --force >/dev/null 2>&1 ||
      log "node-remove: $N3_HOSTNAME did not leave the swarm cleanly; removing it from the manager anyway"
  fi
  if pid_alive "$(pidfile mgr)" dockerd; then
    for id in $(n3_node_id || true) $(n3_swarm_ids); do
      [[ -n $(n3_state_in_swarm "$id") ]] || continue
      timeout 20 docker -H "unix://$(sock mgr)" node rm --force "$id" >/dev/null 2>&1 ||
        log "node-remove: the manager did not remove node $id"
    done
  fi
  if pid_alive "$(pidfile "$N3")" dockerd; then
    dk "$N3" ps -q 2>/dev/null | xargs -r timeout 20 docker -H "unix://$(sock "$N3")" kill >/dev/null 2>&1 || true
  fi
  dockerd_stop "$N3"
  umount_below "$RUN_DIR/$N3"
  # Either engine's data root: `down` runs without resolving the engine (NODE_ROOT unset).
  local root
  for root in "$DATA_DIR"/engine-*/"$N3"; do
    [[ -d $root ]] || continue
    umount_below "$root"
    rm -rf "$root"
  done
  cgroups_down "$N3"
  ip netns del "$N3_HOSTNAME" 2>/dev/null || true
  ip link del "swlh-$N3" 2>/dev/null || true
  rm -rf "${RUN_DIR:?}/$N3" "$(sock "$N3")" "$(host_sock "$N3")" "$N3_JSON"
  log "node $N3_HOSTNAME removed"
}

# For `status`: nothing when the node was never added (it is optional).
node3_status() {
  local id state
  [[ -e /var/run/netns/$N3_HOSTNAME || -s $N3_JSON || -s $(pidfile "$N3") ]] || return 0
  id=$(n3_node_id || true)
  if pid_alive "$(pidfile "$N3")" dockerd && dk "$N3" version >/dev/null 2>&1; then
    state=$( [[ -n $id ]] && n3_state_in_swarm "$id")
    echo "node $N3_HOSTNAME: up ($(sock "$N3"), $N3_IP), swarm node ${id:-none}: ${state:-not joined} (lab.sh node-remove removes it)"
  else
    echo "node $N3_HOSTNAME: DOWN, leftovers present (lab.sh node-remove cleans up)"
  fi
}
