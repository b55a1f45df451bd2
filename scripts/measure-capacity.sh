#!/usr/bin/env bash
# Bounded capacity measurement behind the size presets (docs/operator.md, "Size presets"): the
# local platform with the 1k preset's process counts (2 gateways, 1 message-service, NATS, Redis,
# FerretDB), one steady load-test run, and per process kind: resident memory idle and with every
# user connected, and CPU of the set-up (connect + join) and of the send phase with its drain.
# Prints memory per connection and send-phase CPU per 1,000 deliveries.
# Usage: scripts/measure-capacity.sh [users] [sends/s] [duration]   (default 2000 300 40s; ~2 min)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
users="${1:-2000}"; rate="${2:-300}"; duration="${3:-40s}"
dir="$(mktemp -d /tmp/chorus-capacity.XXXXXX)"
port=18180
hz="$(getconf CLK_TCK)"

node "$root/local/dist/src/cli.js" --gateways 2 --message-services 1 --port "$port" --data-dir "$dir/data" >"$dir/platform.log" 2>&1 &
platform=$!
trap 'kill -TERM "$platform" 2>/dev/null; wait "$platform" 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 120); do curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break; sleep 1; done
curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null

descendants() { local p; for p in $(ps -o pid= --ppid "$1"); do echo "$p"; descendants "$p"; done; }
kind_of() {
  case "$(tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null)" in
    *gateway/dist/src/main.js*) echo gateway ;; *message-service/dist/src/main.js*) echo message-service ;;
    *nats-server*) echo nats ;; *redis-server*) echo redis ;; *ferretdb*) echo database ;; *) echo other ;;
  esac
}
pids="$(descendants "$platform")"
# kind rss_kib cpu_ticks, one line per process
sample() { local p; for p in $pids; do [ -r "/proc/$p/stat" ] || continue
  printf '%s %s %s\n' "$(kind_of "$p")" "$(awk '/^VmRSS/ {print $2}' "/proc/$p/status")" "$(awk '{print $14 + $15}' "/proc/$p/stat")"; done; }
sum_by_kind() { awk -v col="$1" '{ s[$1] += $col } END { for (k in s) print k, s[k] }' | sort; }

sleep 3
sample >"$dir/idle"
node "$root/loadtest/dist/src/cli.js" steady --gateway "http://127.0.0.1:$port" --users "$users" --rate "$rate" \
  --duration "$duration" --out "$dir/report" --progress lines >"$dir/loadtest.log" 2>&1 &
loadtest=$!
peak=0
while kill -0 "$loadtest" 2>/dev/null; do
  sample >"$dir/now"
  [ -f "$dir/send" ] || ! grep -q 'phase send' "$dir/loadtest.log" || cp "$dir/now" "$dir/send"
  gw="$(awk '$1 == "gateway" { s += $2 } END { print s + 0 }' "$dir/now")"
  [ "$gw" -gt "$peak" ] && { peak="$gw"; cp "$dir/now" "$dir/peak"; }
  sleep 1
done
wait "$loadtest" || true
sample >"$dir/end"
grep -v '^\[loadtest\]' "$dir/loadtest.log" | tail -n 12
node - "$dir" "$users" "$hz" <<'EOF'
const [dir, users, hz] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4])];
const fs = require('node:fs');
const read = (f) => fs.readFileSync(`${dir}/${f}`, 'utf8').trim().split('\n').map((l) => l.split(' ')).map(([k, rss, cpu]) => ({ k, rss: +rss, cpu: +cpu }));
const by = (rows, field) => rows.reduce((m, r) => ((m[r.k] = (m[r.k] ?? 0) + r[field]), m), {});
const report = JSON.parse(fs.readFileSync(`${dir}/report/report.json`, 'utf8'));
const delivered = report.deliveries.delivered;
const [idleRss, peakRss] = [by(read('idle'), 'rss'), by(read('peak'), 'rss')];
const [cpu0, cpuSend, cpu1] = [by(read('idle'), 'cpu'), by(read('send'), 'cpu'), by(read('end'), 'cpu')];
const sendSeconds = report.phasesSeconds.send + report.phasesSeconds.drain;
console.log(`users ${report.connections.established}/${users}, messages ${report.messages.acked}, deliveries ${delivered} (lost ${report.deliveries.lost}), delivered/s ${report.throughput.deliveredPerSec.toFixed(0)}, delivery p99 ${report.latency.deliveryMs.p99} ms; set-up ${(report.phasesSeconds.connect + report.phasesSeconds.join).toFixed(1)} s, send+drain ${sendSeconds.toFixed(1)} s`);
for (const k of Object.keys(cpu1).sort()) {
  const setupMs = (((cpuSend[k] ?? 0) - (cpu0[k] ?? 0)) / hz) * 1000;
  const sendMs = ((cpu1[k] - (cpuSend[k] ?? 0)) / hz) * 1000;
  console.log(`${k.padEnd(16)} rss idle ${(idleRss[k] / 1024).toFixed(0)} MiB, with users ${(peakRss[k] / 1024).toFixed(0)} MiB; set-up cpu ${(setupMs / 1000).toFixed(1)} s; send cpu ${(sendMs / 1000).toFixed(1)} s = ${((sendMs / delivered) * 1000).toFixed(1)} ms per 1,000 deliveries, ${(sendMs / sendSeconds / 10).toFixed(0)}% of a core`);
}
console.log(`gateway memory per connection: ${(((peakRss.gateway - idleRss.gateway) * 1024) / report.connections.established / 1024).toFixed(1)} KiB`);
EOF
