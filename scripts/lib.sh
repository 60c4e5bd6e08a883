# Shared shell helpers for scripts/test and scripts/up: install what is missing,
# pick free loopback ports, start and stop servers. Sourced, not run.

apt_updated=""
need_debs() {
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "installing Debian packages: ${missing[*]}" >&2
  local sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  if [ -z "$apt_updated" ]; then $sudo apt-get update -qq >&2; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >&2 || true
  for p in "${missing[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || { echo "could not install $p" >&2; return 1; }; done
}

need_wasm_target() {
  rustup target list --installed 2>/dev/null | grep -q '^wasm32-unknown-unknown$' \
    || rustup target add wasm32-unknown-unknown >&2
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

server_pids=()
stop_servers() {
  local pid
  for pid in "${server_pids[@]:-}"; do
    [ -n "$pid" ] || continue
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  server_pids=()
}

# start_clickhouse DIR: a throwaway ClickHouse server on free loopback ports.
start_clickhouse() {
  local dir=$1 http tcp interserver
  mkdir -p "$dir/data" "$dir/tmp" "$dir/log"
  http=$(free_port); tcp=$(free_port); interserver=$(free_port)
  cat > "$dir/config.xml" <<XML
<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>$dir/log/server.log</log><errorlog>$dir/log/error.log</errorlog><console>0</console></logger>
  <listen_host>127.0.0.1</listen_host>
  <http_port>$http</http_port>
  <tcp_port>$tcp</tcp_port>
  <interserver_http_port>$interserver</interserver_http_port>
  <path>$dir/data/</path>
  <tmp_path>$dir/tmp/</tmp_path>
  <users_config>$dir/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <timezone>UTC</timezone>
  <mark_cache_size>268435456</mark_cache_size>
</yandex>
XML
  cat > "$dir/users.xml" <<XML
<?xml version="1.0"?>
<yandex>
  <profiles><default><allow_experimental_low_cardinality_type>1</allow_experimental_low_cardinality_type></default></profiles>
  <users><default><password></password><networks><ip>127.0.0.1</ip><ip>::1</ip></networks><profile>default</profile><quota>default</quota></default></users>
  <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors><result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas>
</yandex>
XML
  clickhouse-server --config-file="$dir/config.xml" --daemon --pid-file="$dir/ch.pid" >/dev/null 2>&1 || true
  for _ in $(seq 1 100); do
    curl -fsS "http://127.0.0.1:$http/ping" >/dev/null 2>&1 && break
    sleep 0.1
  done
  if ! curl -fsS "http://127.0.0.1:$http/ping" >/dev/null 2>&1; then
    echo "ClickHouse did not start; its log:" >&2; tail -20 "$dir/log/error.log" >&2 || true
    return 1
  fi
  server_pids+=("$(cat "$dir/ch.pid")")
  export WARROOM_CLICKHOUSE_URL="http://127.0.0.1:$http"
  echo "ClickHouse on $WARROOM_CLICKHOUSE_URL" >&2
}

# need_pip MODULE PACKAGE: install a Python package with pip when its module is missing.
need_pip() {
  python3 -c "import $1" 2>/dev/null && return 0
  echo "installing Python package: $2" >&2
  python3 -m pip install -q "$2" >&2 || true
  python3 -c "import $1" 2>/dev/null || { echo "could not install $2" >&2; return 1; }
}

# start_smtp DIR: a real SMTP server (aiosmtpd) on a free loopback port that delivers every
# message into the Maildir DIR/maildir; exports WARROOM_SMTP_ADDR and WARROOM_SMTP_MAILDIR.
start_smtp() {
  local dir=$1 port
  mkdir -p "$dir"
  port=$(free_port)
  python3 -m aiosmtpd -n -l "127.0.0.1:$port" -c aiosmtpd.handlers.Mailbox "$dir/maildir" \
    >"$dir/smtp.log" 2>&1 &
  server_pids+=("$!")
  for _ in $(seq 1 100); do
    python3 -c "import socket; socket.create_connection(('127.0.0.1',$port),0.2).close()" 2>/dev/null && break
    sleep 0.1
  done
  if ! python3 -c "import socket; socket.create_connection(('127.0.0.1',$port),0.2).close()" 2>/dev/null; then
    echo "SMTP server did not start; its log:" >&2; tail -20 "$dir/smtp.log" >&2 || true
    return 1
  fi
  export WARROOM_SMTP_ADDR="127.0.0.1:$port"
  export WARROOM_SMTP_MAILDIR="$dir/maildir"
  echo "SMTP on $WARROOM_SMTP_ADDR, mail in $WARROOM_SMTP_MAILDIR" >&2
}
