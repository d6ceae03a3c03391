#!/usr/bin/env bash
# Installs what the local cluster and the tests need, skipping what is already there:
# Debian packages (etcd, Prometheus, nginx, the nginx exporter) and the npm dependencies.
# Go (to build Kubernetes once), Node.js 20+ and kubectl must already be on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
for tool in go node npm kubectl; do
  command -v "$tool" >/dev/null || missing+=("$tool")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "error: missing ${missing[*]}: install Go 1.26+, Node.js 20.19+ and kubectl first (README.md, Prerequisites)" >&2
  exit 1
fi

pkgs=()
command -v etcd >/dev/null || pkgs+=(etcd-server)
command -v prometheus >/dev/null || pkgs+=(prometheus)
command -v nginx >/dev/null || pkgs+=(nginx-light)
command -v prometheus-nginx-exporter >/dev/null || pkgs+=(prometheus-nginx-exporter)
command -v victoria-metrics >/dev/null || pkgs+=(victoria-metrics)
command -v pgrep >/dev/null || pkgs+=(procps)
if [ ${#pkgs[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" = "0" ] || SUDO="sudo"
  echo "installing Debian packages: ${pkgs[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
