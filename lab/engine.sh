# Sourced by lab/lab.sh: which Docker engine the lab runs (LAB_ENGINE=28|20),
# engine 28's packages from Debian sid, and the runner's CLI plugins. Uses
# lab.sh's log/die, RUN_DIR, DATA_DIR, ENGINE_CACHE, ENGINE_FILE and
# CLI_PLUGIN_DIR.

# ENGINE is this command's engine: LAB_ENGINE, else the running lab's, else 28.
# An `up` that names another engine than the lab's own is refused: the
# engines have their own data roots, and one lab runs at a time.
resolve_engine() { # [any]: also another engine than the running lab's (engine-path)
  local recorded=""
  [[ -s $ENGINE_FILE ]] && recorded=$(<"$ENGINE_FILE")
  ENGINE=${LAB_ENGINE:-${recorded:-28}}
  [[ $ENGINE == 28 || $ENGINE == 20 ]] ||
    die "LAB_ENGINE=$ENGINE: choose 28 (Docker 28.5 from Debian sid, the default) or 20 (Docker 20.10 from Debian bookworm)"
  if [[ -n $recorded && $recorded != "$ENGINE" && ${1:-} != any ]]; then
    die "the lab runs engine $recorded, not $ENGINE; switch with: sudo bash lab/lab.sh down && sudo LAB_ENGINE=$ENGINE bash lab/lab.sh up"
  fi
  ENGINE_DIR=$ENGINE_CACHE/engine-$ENGINE
  NODE_ROOT=$DATA_DIR/engine-$ENGINE   # the nodes' data roots: $NODE_ROOT/{mgr,wrk,run}
}

# What every daemon of the lab runs with first on its PATH: dockerd finds
# containerd, the runc shim, docker-proxy and docker-init there.
engine_path_prefix() {
  [[ $ENGINE == 28 ]] && echo "$ENGINE_DIR/root/usr/sbin:$ENGINE_DIR/root/usr/bin:"
  return 0
}

# docker.io's docker-init is a link to tini-static, which it depends on.
ENGINE28_PACKAGES=(docker.io containerd docker-buildx docker-compose tini-static)
ENGINE28_FILES=(usr/sbin/dockerd usr/sbin/docker-proxy usr/bin/docker-init usr/bin/containerd
                usr/bin/containerd-shim-runc-v2 usr/libexec/docker/cli-plugins/docker-buildx
                usr/libexec/docker/cli-plugins/docker-compose)

# The Debian mirror the system's own apt sources use (deb822 or one-line).
debian_mirror() {
  local f uris=()
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -f $f ]] && mapfile -t -O "${#uris[@]}" uris < <(awk 'tolower($1) == "uris:" {for (i = 2; i <= NF; i++) print $i}' "$f")
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -f $f ]] && mapfile -t -O "${#uris[@]}" uris < <(sed -E 's/\[[^]]*\]//' "$f" | awk '$1 == "deb" {print $2}')
  done
  printf '%s\n' "${uris[@]}" | grep -E '^https?://[^ ]*/debian/?$' | head -1 | sed 's:/$::'
}

# Engine 28: Debian sid's docker.io, containerd, docker-buildx and
# docker-compose, downloaded with apt-get into the lab's own folder using a
# private apt state (sources, lists, cache), so the system's apt sources and
# installed packages stay as they are; unpacked with dpkg-deb -x. Done once.
engine_fetch() {
  [[ $ENGINE == 28 ]] || return 0
  local f missing=0 tmp mirror deb
  for f in "${ENGINE28_FILES[@]}"; do [[ -x $ENGINE_DIR/root/$f ]] || missing=1; done
  [[ $missing == 0 && -s $ENGINE_DIR/versions ]] && return 0
  mirror=$(debian_mirror)
  [[ -n $mirror ]] || die "engine 28: no Debian mirror in /etc/apt sources to fetch sid's packages from"
  [[ -r /usr/share/keyrings/debian-archive-keyring.gpg ]] || die "engine 28: /usr/share/keyrings/debian-archive-keyring.gpg missing (package debian-archive-keyring)"
  log "engine 28: fetching ${ENGINE28_PACKAGES[*]} from Debian sid into $ENGINE_DIR (private apt state)"
  tmp=$ENGINE_DIR.partial
  rm -rf "$tmp"
  mkdir -p "$tmp/apt/lists/partial" "$tmp/apt/cache/archives/partial" "$tmp/debs" "$tmp/root"
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror sid main" >"$tmp/apt/sources.list"
  local opts=(-q -o "Dir::Etc::sourcelist=$tmp/apt/sources.list" -o Dir::Etc::sourceparts=/dev/null
              -o "Dir::State::Lists=$tmp/apt/lists" -o "Dir::Cache=$tmp/apt/cache"
              -o Dir::State::status=/var/lib/dpkg/status -o APT::Sandbox::User=root)
  apt-get "${opts[@]}" update >"$tmp/apt/update.log" 2>&1 || { tail -20 "$tmp/apt/update.log" >&2; die "engine 28: apt-get update (sid) failed"; }
  (cd "$tmp/debs" && apt-get "${opts[@]}" download "${ENGINE28_PACKAGES[@]}") >"$tmp/apt/download.log" 2>&1 ||
    { tail -20 "$tmp/apt/download.log" >&2; die "engine 28: apt-get download failed"; }
  for deb in "$tmp"/debs/*.deb; do
    dpkg-deb -x "$deb" "$tmp/root"
    echo "$(dpkg-deb -f "$deb" Package) $(dpkg-deb -f "$deb" Version)" >>"$tmp/versions"
  done
  for f in "${ENGINE28_FILES[@]}"; do [[ -x $tmp/root/$f ]] || die "engine 28: $f not in the packages"; done
  # sid moves on: say so plainly rather than run another engine under this name.
  "$tmp/root/usr/sbin/dockerd" --version | grep -q 'version 28\.' ||
    die "engine 28: Debian sid now has $("$tmp/root/usr/sbin/dockerd" --version); lab.sh expects 28.x"
  rm -rf "$tmp/debs" "$tmp/apt" "$ENGINE_DIR"
  mv "$tmp" "$ENGINE_DIR"
  log "engine 28: $(paste -sd, "$ENGINE_DIR/versions")"
}

# Engine 28's runner is GitHub's: the buildx and compose plugins in a system
# plugin folder, found whatever DOCKER_CONFIG says. Symlinks into the engine
# folder; a plugin the machine has of its own is left alone. Engine 20's runner
# has none (the classic builder's path). `down` removes the lab's symlinks.
cli_plugins_up() {
  cli_plugins_down
  [[ $ENGINE == 28 ]] || return 0
  local p target
  mkdir -p "$CLI_PLUGIN_DIR"
  for p in docker-buildx docker-compose; do
    target=$ENGINE_DIR/root/usr/libexec/docker/cli-plugins/$p
    if [[ -e $CLI_PLUGIN_DIR/$p && ! -L $CLI_PLUGIN_DIR/$p ]]; then
      log "keeping the machine's own $CLI_PLUGIN_DIR/$p"
      continue
    fi
    ln -sfn "$target" "$CLI_PLUGIN_DIR/$p"
  done
}

cli_plugins_down() {
  local p link
  for p in docker-buildx docker-compose; do
    link=$CLI_PLUGIN_DIR/$p
    [[ -L $link && $(readlink "$link") == "$ENGINE_CACHE"/* ]] && rm -f "$link"
  done
  # the folders too, if the lab's links were all they held
  rmdir "$CLI_PLUGIN_DIR" "${CLI_PLUGIN_DIR%/*}" 2>/dev/null || true
  return 0
}
