#!/usr/bin/env bash
# Shared set-up, sourced by scripts/start and scripts/test: finds Python >= 3.12,
# installs the system libraries WeasyPrint needs, and builds .venv from
# requirements.txt. Safe to run again: each step is skipped when already done.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
MIN_PY_MINOR=12

say() { printf '\033[1;34m==>\033[0m %s\n' "$*"; }
die() { printf '\033[1;31mError:\033[0m %s\n' "$*" >&2; exit 1; }

python_ok() {
  "$1" -c "import sys; sys.exit(0 if sys.version_info >= (3, $MIN_PY_MINOR) else 1)" 2>/dev/null
}

find_python() {
  local candidates=()
  [ -n "${PYTHON:-}" ] && candidates+=("$PYTHON")
  candidates+=(python3.14 python3.13 python3.12 python3)
  if command -v pyenv >/dev/null 2>&1; then
    local pyenv_root
    pyenv_root="$(pyenv root)"
    # Newest first.
    while IFS= read -r dir; do
      candidates+=("$dir/bin/python3")
    done < <(ls -d "$pyenv_root"/versions/3.1[2-9]* "$pyenv_root"/versions/3.[2-9][0-9]* 2>/dev/null | sort -rV)
  fi
  candidates+=(/usr/local/bin/python3.13 /usr/local/bin/python3.12 /usr/bin/python3.13 /usr/bin/python3.12)
  local candidate path
  for candidate in "${candidates[@]}"; do
    path="$(command -v "$candidate" 2>/dev/null || true)"
    [ -n "$path" ] || continue
    # pyenv shims exist for versions that are not selected; ask them directly.
    if python_ok "$path"; then
      echo "$path"
      return 0
    fi
  done
  return 1
}

# Debian packages: WeasyPrint's Pango stack, HarfBuzz's subsetter (font
# subsetting without fontTools), CJK fonts for Chinese certificates,
# poppler-utils (pdftotext, used by tests) and gettext (message catalogues).
SYSTEM_PACKAGES=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-noto-cjk fonts-noto-cjk-extra poppler-utils gettext)

ensure_system_packages() {
  if ! command -v dpkg-query >/dev/null 2>&1; then
    say "Not a Debian-family system: make sure Pango >= 1.44, HarfBuzz with libharfbuzz-subset, Noto Sans CJK SC fonts and poppler-utils are installed."
    return 0
  fi
  local missing=()
  local package
  for package in "${SYSTEM_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  say "Installing system packages: ${missing[*]}"
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
      sudo="sudo"
    else
      die "missing system packages: ${missing[*]}. Install them with: sudo apt-get install -y ${missing[*]}"
    fi
  fi
  $sudo apt-get update -qq || die "apt-get update failed; install by hand: ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
    || die "could not install: ${missing[*]}"
}

ensure_venv() {
  if [ -x "$VENV/bin/python" ] && python_ok "$VENV/bin/python"; then
    :
  else
    local python
    python="$(find_python)" || die "Python >= 3.$MIN_PY_MINOR is required (Django 6.1) but none was found. Install python3.12 or newer (e.g. 'pyenv install 3.13'), or set PYTHON=/path/to/python3.12."
    say "Creating virtual environment with $("$python" --version) ($python)"
    rm -rf "$VENV"
    "$python" -m venv "$VENV"
  fi
  local stamp="$VENV/.requirements.sha256"
  local wanted
  wanted="$(sha256sum "$ROOT/requirements.txt" | cut -d' ' -f1)"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$wanted" ]; then
    say "Installing Python packages from requirements.txt"
    "$VENV/bin/python" -m pip install --quiet --upgrade pip 2>&1 | grep -v '^WARNING: Location' || true
    "$VENV/bin/python" -m pip install --quiet -r "$ROOT/requirements.txt" 2>&1 | grep -v '^WARNING: Location' || true
    "$VENV/bin/python" -m pip check >/dev/null || die "pip could not install requirements.txt consistently (see above)."
    echo "$wanted" > "$stamp"
  fi
}

bootstrap() {
  ensure_system_packages
  ensure_venv
  mkdir -p "$ROOT/var"
}
