#!/usr/bin/env bash
# Smoke test of a running lab (bash lab/lab.sh up first):
#  1. build an httpd image on the runner Docker and push it to the registry;
#  2. `docker stack deploy --with-registry-auth` 4 replicas on the swarm and
#     wait until tasks run on both nodes; check cross-node overlay traffic;
#  3. reach the manager over ssh (`docker node ls`, `docker system dial-stdio`).
# Leaves nothing behind (stack removed, temp dir deleted).
set -euo pipefail
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PATH
LAB_JSON=${LAB_JSON:-/run/swl/lab.json}
j() { node -p "require('$LAB_JSON').$1"; }
log() { echo "smoke: $*" >&2; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN{printf "%.1f", b-a}'; }

REG=$(j registry)
IMG=$REG/smoke/app:1
STACK=smoke
tmp=$(mktemp -d)
export DOCKER_CONFIG=$tmp/docker-config
cleanup() {
  DOCKER_HOST=$(j managerDockerHost) docker stack rm "$STACK" >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT

mkdir -p "$DOCKER_CONFIG" "$tmp/ctx"
echo "hello from smoke" >"$tmp/ctx/index.html"
cat >"$tmp/ctx/Dockerfile" <<EOF
FROM $(j baseImage)
COPY index.html /www/index.html
HEALTHCHECK --interval=2s --timeout=2s --retries=3 CMD wget -q -O- http://127.0.0.1:8080/ || exit 1
CMD ["httpd","-f","-p","8080","-h","/www"]
EOF
cat >"$tmp/compose.yml" <<EOF
version: "3.8"
services:
  web:
    image: $IMG
    init: true              # httpd as PID 1 would ignore SIGTERM
    deploy:
      replicas: 4
      endpoint_mode: dnsrr  # no IPVS in this kernel: VIPs do not work
EOF

log "build + push $IMG on the runner"
export DOCKER_HOST=$(j runnerDockerHost)
docker build -q -t "$IMG" "$tmp/ctx" >/dev/null 2>&1
j registryPassword | docker login -u "$(j registryUser)" --password-stdin "$REG" >/dev/null 2>&1
docker push -q "$IMG" >/dev/null

log "stack deploy (4 replicas)"
export DOCKER_HOST=$(j managerDockerHost)
t0=$(now)
docker stack deploy --with-registry-auth -c "$tmp/compose.yml" "$STACK" >/dev/null 2>&1
for ((i = 0; i < 240; i++)); do
  nodes=$(docker service ps "${STACK}_web" --filter desired-state=running \
    --format '{{.Node}} {{.CurrentState}}' | awk '$2 == "Running" {print $1}' | sort)
  [[ $(wc -l <<<"$nodes") == 4 && $(uniq <<<"$nodes" | wc -l) == 2 ]] && break
  sleep 0.5
done
docker service ps "${STACK}_web" --format '{{.Name}} {{.Node}} {{.CurrentState}} {{.Error}}' >&2
[[ $(uniq <<<"$nodes" | wc -l) == 2 ]] || { log "FAIL: tasks not running on both nodes"; exit 1; }
log "converged in $(since "$t0")s (4 tasks Running on both nodes)"

# overlay: from a task on the manager, fetch from every task by DNS round robin
c=$(docker ps -q --filter "name=${STACK}_web" | head -1)
ips=$(docker exec "$c" nslookup tasks.web 127.0.0.11 | awk '/^Address: / {print $2}')
for ip in $ips; do
  docker exec "$c" wget -q -O- "http://$ip:8080/" >/dev/null || { log "FAIL: overlay to $ip"; exit 1; }
done
log "overlay ok: reached all $(wc -w <<<"$ips") tasks from $c"

log "ssh to the manager"
printf '%s' "$(j knownHosts)" >"$tmp/known_hosts"
sshx() {
  ssh -i "$(j sshKeyFile)" -o UserKnownHostsFile="$tmp/known_hosts" -o StrictHostKeyChecking=yes \
    -o BatchMode=yes "$(j sshUser)@$(j sshHost)" "$@"
}
sshx docker node ls >&2
resp=$(printf 'GET /_ping HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n\r\n' |
  timeout 15 ssh -i "$(j sshKeyFile)" -o UserKnownHostsFile="$tmp/known_hosts" -o BatchMode=yes \
    "$(j sshUser)@$(j sshHost)" docker system dial-stdio)
grep -q '^OK' <<<"$resp" || { log "FAIL: dial-stdio: $resp"; exit 1; }
log "dial-stdio ok ($(grep -i '^Api-Version' <<<"$resp" | tr -d '\r'))"

t0=$(now)
docker stack rm "$STACK" >/dev/null
for ((i = 0; i < 120; i++)); do
  [[ -z $(docker ps -q --filter "name=${STACK}_" ; DOCKER_HOST=$(j workerDockerHost) docker ps -q --filter "name=${STACK}_") ]] && break
  sleep 0.5
done
log "stack removed in $(since "$t0")s"
echo "smoke: 1 passed, 0 failed"
