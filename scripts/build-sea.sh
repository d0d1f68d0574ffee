#!/usr/bin/env bash
# Opt-in: a linux-x64 single executable (Node SEA) built from the node binary running this script.
# ~105 MB: never committed (dist-sea/ is ignored) and never built by the default test run.
# Other platforms need their own node binary, which this machine cannot download.
set -euo pipefail
cd "$(dirname "$0")/.."

platform="$(node -p 'process.platform + "-" + process.arch')"
if [ "$platform" != linux-x64 ]; then
  echo "error: the single executable is built for linux-x64 only (this node is $platform)" >&2
  exit 2
fi
node -e 'if (!require("node:sea")) process.exit(1)' 2>/dev/null || {
  echo "error: this node has no single-executable support (node:sea)" >&2
  exit 2
}

bash scripts/bundle.sh --sea
out=dist-sea
cat > "$out/sea-config.json" <<JSON
{ "main": "$out/kubectl-netdiag.cjs", "output": "$out/sea-prep.blob", "disableExperimentalSEAWarning": true, "useCodeCache": true }
JSON
node --experimental-sea-config "$out/sea-config.json"
rm -f "$out/kubectl-netdiag"
cp "$(command -v node)" "$out/kubectl-netdiag"
chmod u+w "$out/kubectl-netdiag"
# The fuse string is fixed by Node's SEA format (node/src/node_sea.cc).
npx --no-install postject "$out/kubectl-netdiag" NODE_SEA_BLOB "$out/sea-prep.blob" \
  --sentinel-fuse NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2
"$out/kubectl-netdiag" version
echo "built $out/kubectl-netdiag ($(du -m "$out/kubectl-netdiag" | cut -f1) MB)" >&2
