# Sourced by scripts/setup-deps.sh: apt-get with a private configuration whose
# sources, package lists and downloads live in a directory of the dependency cache. The system's /etc/apt
# is only read for keys, never changed.
#
# private_apt_in DIR SOURCE_LINE... -- APT_GET_ARGS...
#   DIR holds sources.list (written from the SOURCE_LINEs the first time), lists/ (updated once) and archives/.
private_apt_in() {
  local d=$1
  shift
  local sources=()
  while [ $# -gt 0 ] && [ "$1" != "--" ]; do sources+=("$1"); shift; done
  [ "${1:-}" = "--" ] && shift
  mkdir -p "$d/lists/partial" "$d/archives/partial"
  [ -f "$d/sources.list" ] || printf '%s\n' "${sources[@]}" > "$d/sources.list"
  local opts=(-o "Dir::Etc::sourcelist=$d/sources.list" -o "Dir::Etc::sourceparts=-"
    -o "Dir::State::Lists=$d/lists" -o "Dir::Cache::archives=$d/archives" -o "APT::Get::List-Cleanup=0"
    -o "APT::Sandbox::User=root")
  if [ ! -f "$d/lists/.updated" ]; then
    apt-get "${opts[@]}" update -qq
    touch "$d/lists/.updated"
  fi
  apt-get "${opts[@]}" "$@"
}
