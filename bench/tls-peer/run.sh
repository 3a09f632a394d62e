#!/usr/bin/env bash
# HTTPS benchmark: makes a throwaway CA and server certificate (openssl), starts a private nginx
# with TLS on a loopback port (one worker, session cache and tickets on, access log off), and runs
# the spool-vs-reqwest binary against it. Any argument passes through (e.g. --rounds 3).
#
#   bench/tls-peer/run.sh
#   bench/tls-peer/run.sh --handshakes 5000 --requests 50000 --concurrency 100
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
NGINX=${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}
DIR=$(mktemp -d /tmp/spool-tls-bench.XXXXXX)
chmod 755 "$DIR"
cleanup() {
    if [[ -f $DIR/nginx.pid ]]; then kill "$(cat "$DIR/nginx.pid")" 2>/dev/null || true; fi
    sleep 0.2
    rm -rf "$DIR"
}
trap cleanup EXIT

cd "$DIR"
mkdir -p logs tmp html
ec="-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
openssl req -x509 $ec -keyout ca.key -out ca.pem -days 30 -subj /CN=spool-bench-CA \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
openssl req $ec -keyout server.key -out server.csr -subj /CN=localhost 2>/dev/null
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n' > leaf.ext
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -set_serial 2 -days 30 -extfile leaf.ext -out server.pem 2>/dev/null
head -c 1024 /dev/zero | tr '\0' 'x' > html/1k

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
USER_LINE=""
[[ $(id -u) == 0 ]] && USER_LINE="user root root;"
cat > nginx.conf <<CONF
$USER_LINE
daemon on;
worker_processes 1;
worker_rlimit_nofile 10000;
pid "$DIR/nginx.pid";
error_log "$DIR/logs/error.log" warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path "$DIR/tmp/body";
    proxy_temp_path "$DIR/tmp/proxy";
    fastcgi_temp_path "$DIR/tmp/fastcgi";
    uwsgi_temp_path "$DIR/tmp/uwsgi";
    scgi_temp_path "$DIR/tmp/scgi";
    keepalive_timeout 60s;
    keepalive_requests 1000000;
    server {
        listen 127.0.0.1:$PORT ssl backlog=4096;
        ssl_certificate "$DIR/server.pem";
        ssl_certificate_key "$DIR/server.key";
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_session_cache shared:SSL:10m;
        ssl_session_timeout 10m;
        ssl_session_tickets on;
        root "$DIR/html";
    }
}
CONF
"$NGINX" -p "$DIR" -c "$DIR/nginx.conf" -e "$DIR/logs/error.log"
for _ in $(seq 50); do
    curl -sf --cacert ca.pem "https://127.0.0.1:$PORT/1k" -o /dev/null && break
    sleep 0.1
done

cd "$HERE"
cargo build --release --quiet
./target/release/spool-bench-tls --url "https://127.0.0.1:$PORT/1k" --ca "$DIR/ca.pem" --body-len 1024 "$@"
