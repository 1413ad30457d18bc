# Lane: desispec's own code on perfex's outputs (issue #20). desispec 0.70.0 with desiutil 4.0.1 and
# desitarget 4.4.0 (pinned; `pip install --no-deps`) in a virtual environment on Debian's python3, which brings
# astropy, fitsio, scipy, PyYAML and pytest from apt; the environment is kept in the dependency cache
# ($PERFEX_DEPS_DIR, default ~/.cache/perfex-deps) and made once. specter and gpu_specter are never installed
# (the index's `specter` is an unrelated project; desihub's are not on the index): the tests import none of
# desispec's modules that need them. Reuses the `full` lane's build/ (the perfex program): run after it.
deps_dir=${PERFEX_DEPS_DIR:-"$HOME/.cache/perfex-deps"}
perfex_cli=${PERFEX_CLI:-$perfex_root/build/drivers/perfex}
if [ ! -x "$perfex_cli" ]; then
  echo "desispec lane: $perfex_cli is missing: this lane uses the full lane's build (PERFEX_LANES=\"full desispec\")" >&2
  exit 1
fi

apt_packages=(python3-venv python3-pip python3-astropy python3-fitsio python3-scipy python3-yaml python3-pytest)
missing=()
for p in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  echo "desispec lane: installing ${missing[*]}"
  "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

pins=(desispec==0.70.0 desiutil==4.0.1 desitarget==4.4.0)
py_version=$(/usr/bin/python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')
venv="$deps_dir/desispec-0.70.0-desiutil-4.0.1-desitarget-4.4.0-py$py_version"
if [ ! -f "$venv/.perfex-stamp" ]; then
  echo "desispec lane: making $venv (${pins[*]})"
  rm -rf "$venv"
  mkdir -p "$deps_dir"
  /usr/bin/python3 -m venv --system-site-packages "$venv"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check --no-deps "${pins[@]}"
  touch "$venv/.perfex-stamp"
fi

PERFEX_CLI="$perfex_cli" PYTHONDONTWRITEBYTECODE=1 OMP_NUM_THREADS=${OMP_NUM_THREADS:-2} \
  "$venv/bin/python" -m pytest -q -p no:cacheprovider "$perfex_root/tests/desispec"
