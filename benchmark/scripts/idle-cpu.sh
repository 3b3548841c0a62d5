#!/bin/bash
# Idle CPU of one gateway (with its control port) and two workers on their own redis-server:
# started, settled for 60 s, then measured over 60 s from /proc/<pid>/stat. Run it for two trees in
# turn (A/B), a few times each: single readings vary by a third.
# usage: benchmark/scripts/idle-cpu.sh <label> <gateway exec jar> <worker exec jar>  (Java from JAVA_HOME, else PATH: 21+)
set -eu
label=$1; gateway=$2; worker=$3
out=${TMPDIR:-/tmp}/stopline-idle-$label
rm -rf "$out"; mkdir -p "$out"
port=$((6400 + RANDOM % 500))
redis-server --port "$port" --save '' --appendonly no > "$out/redis.log" 2>&1 &
r=$!
java=${JAVA_HOME:+$JAVA_HOME/bin/}java
common="--spring.data.redis.url=redis://127.0.0.1:$port --logging.level.io.stopline=WARN"
"$java" -Xmx1g -XX:+UseParallelGC -jar "$gateway" --server.port=0 --management.server.port=0 \
  --stopline.auth.jwt-secret=benchmark-secret-of-at-least-32-bytes-long --spring.profiles.active=dev \
  --stopline.gateway.connections.control-port=0 $common > "$out/gateway.log" 2>&1 &
g=$!
"$java" -Xmx1g -XX:+UseParallelGC -jar "$worker" --server.port=0 --stopline.worker.id="w1-$label" $common > "$out/w1.log" 2>&1 &
w1=$!
"$java" -Xmx1g -XX:+UseParallelGC -jar "$worker" --server.port=0 --stopline.worker.id="w2-$label" $common > "$out/w2.log" 2>&1 &
w2=$!
trap 'kill $g $w1 $w2 $r 2>/dev/null || true' EXIT
sleep 60
ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
a=($(ticks $g) $(ticks $w1) $(ticks $w2))
sleep 60
b=($(ticks $g) $(ticks $w1) $(ticks $w2))
hz=$(getconf CLK_TCK)
echo "$label idle cores over 60 s: gateway $(echo "scale=4; (${b[0]}-${a[0]})/$hz/60" | bc)" \
  "workers $(echo "scale=4; (${b[1]}+${b[2]}-${a[1]}-${a[2]})/$hz/60" | bc)"
