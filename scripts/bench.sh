#!/usr/bin/env bash
# Reproduces the tables of docs/BENCHMARKS.md. Prints Markdown tables on
# stdout; raw outputs go to $BENCH_DIR/logs.
#
#   scripts/bench.sh [camt|matcher|quality|e2e|passes|ab|daemon|all]
#   (default: all; passes, ab and daemon are not in all)
#
# Environment:
#   BENCH_DIR   where data and binaries go (default /tmp/lettrage-bench; needs ~2.5 GB,
#               ~6 GB more with BENCH_1M=1)
#   RUNS        runs per measurement; medians are reported (default 3)
#   RUNS_1M     runs of the 1,000,000 data set (default 1)
#   CAMT_SIZES  CAMT file sizes (default "1MB 50MB 300MB")
#   E2E_SIZES   data sets for `lettrage match`: N (N transactions, 2N open items) or NxM
#               (N transactions, M open items); default "10000 100000"
#   E2E_PROFILE the generator's profile of the e2e data: classic (default) or remittance
#               (issue 14; its data sets go to $BENCH_DIR/data-remittance-SIZE)
#   E2E_ONCE=0  e2e without the `lettrage once` table
#   AB_SIZE     the ab section: `lettrage match` on the classic and the remittance data of
#               AB_SIZE (default 100000), runs interleaved, medians and their ratio
#   PASS_SIZES, PASS_SEEDS, PASS_CONFIGS  the passes section (default "10000 100000", "42",
#               "defaults policies")
#   DAEMON_SIZES, DAEMON_STORES  the daemon section: transactions (as many open items) and
#               state stores (default "100000", "sqlite postgres"; BENCH_1M=1 adds 1000000).
#               postgres starts a private server (initdb, fsync on) from PG_BIN or
#               /usr/lib/postgresql/*/bin, as the postgres user when run as root
#   NO_BUILD=1  use the lettrage and lettrage-bench already in BENCH_DIR (e.g. an older
#               lettrage, to measure before and after a change on the same data)
#   BENCH_1M=1  also run `lettrage match` on 1,000,000 transactions × 1,000,000 items, the
#               issue's target (opt-in: generating takes ~2 min and ~1 GB; the run ~4 GB)
set -euo pipefail

cd "$(dirname "$0")/.."
BENCH_DIR=${BENCH_DIR:-/tmp/lettrage-bench}
RUNS=${RUNS:-3}
CAMT_SIZES=${CAMT_SIZES-"1MB 50MB 300MB"}
E2E_SIZES=${E2E_SIZES-"10000 100000"}
if [[ -n "${BENCH_1M:-}" ]]; then E2E_SIZES="$E2E_SIZES 1000000x1000000"; fi
LOGS=$BENCH_DIR/logs
mkdir -p "$BENCH_DIR" "$LOGS"

if [[ ! -x /usr/bin/time ]]; then
	echo "bench.sh: /usr/bin/time is missing (apt-get install -y time)" >&2
	exit 2
fi

build() {
	if [[ -n ${NO_BUILD:-} && -x $BENCH_DIR/lettrage && -x $BENCH_DIR/lettrage-bench ]]; then
		return # the binaries already there (a before/after comparison)
	fi
	go build -o "$BENCH_DIR/lettrage" ./cmd/lettrage
	go build -o "$BENCH_DIR/lettrage-bench" ./cmd/lettrage-bench
}

median() { sort -g | awk '{a[NR]=$1} END {if (NR==0) {print "NaN"} else if (NR%2) {print a[(NR+1)/2]} else {print (a[NR/2]+a[NR/2+1])/2}}'; }

# timed LOG CMD...: runs CMD under /usr/bin/time -v, output to LOG; prints
# "wall_seconds cpu_seconds max_rss_kb". The machine is shared: a command
# whose resident set passes MAX_RSS_GB (default 12) is killed (SIGKILL: a
# SIGTERM lets lettrage finish its write-back), and the line
# printed is its figures up to then with "killed" appended.
MAX_RSS_GB=${MAX_RSS_GB:-12}
timed() {
	local log=$1
	shift
	/usr/bin/time -v "$@" >"$log" 2>"$log.time" &
	local tpid=$! child="" killed="" rss
	while kill -0 "$tpid" 2>/dev/null; do
		[[ -z $child ]] && child=$(pgrep -P "$tpid" || true)
		if [[ -n $child ]]; then
			rss=$(awk '/^VmRSS/ {print $2}' "/proc/$child/status" 2>/dev/null || echo 0)
			if [[ ${rss:-0} -gt $((MAX_RSS_GB * 1048576)) ]]; then
				kill -KILL "$child" 2>/dev/null || true
				killed=" killed"
			fi
		fi
		sleep 0.2
	done
	local rc=0
	wait "$tpid" || rc=$?
	# lettrage match exits 1 when files were skipped: still a result
	if [[ $rc -ne 0 && $rc -ne 1 && -z $killed ]]; then
		echo "bench.sh: $* failed ($rc), see $log.time" >&2
		exit 1
	fi
	awk -F': ' '
		/Elapsed \(wall clock\)/ { n = split($2, p, ":"); w = 0; for (i = 1; i <= n; i++) w = w * 60 + p[i] }
		/User time/ { u = $2 } /System time/ { s = $2 }
		/Maximum resident set size/ { r = $2 }
		END { printf "%.3f %.3f %d", w, u + s, r }' "$log.time"
	echo "$killed"
}

host() {
	echo "_$(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(go version | awk '{print $3}'), $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet 2>/dev/null || echo '+changes'), load average $(cut -d' ' -f1-3 /proc/loadavg)${1-, median of $RUNS runs}_"
	echo
}

camt_bench() {
	echo "### CAMT reading: \`lettrage inspect --summary\`, GOMAXPROCS=1"
	echo
	host
	echo "| file | reader | MB/s (wall) | MB/s (CPU) | transactions/s (wall) | peak RSS | wall s |"
	echo "|---|---|---|---|---|---|---|"
	for size in $CAMT_SIZES; do
		local f=$BENCH_DIR/camt-$size.xml
		if [[ ! -s $f ]]; then
			"$BENCH_DIR/lettrage-bench" camt --size "$size" --out "$f" >"$f.info"
		fi
		local txs mb
		txs=$(awk '{print $4}' "$f.info")
		mb=$(stat -c %s "$f" | awk '{printf "%.2f", $1 / 1048576}')
		cat "$f" >/dev/null # warm the page cache
		for mode in fast reference; do
			local flag=()
			[[ $mode == reference ]] && flag=(--reference)
			local walls=() cpus=() rsss=()
			for r in $(seq "$RUNS"); do
				read -r w c k < <(GOMAXPROCS=1 timed "$LOGS/inspect-$size-$mode-$r" "$BENCH_DIR/lettrage" inspect --summary "${flag[@]}" "$f")
				walls+=("$w") cpus+=("$c") rsss+=("$k")
			done
			local w c k
			w=$(printf '%s\n' "${walls[@]}" | median)
			c=$(printf '%s\n' "${cpus[@]}" | median)
			k=$(printf '%s\n' "${rsss[@]}" | median)
			local name="fast path"
			[[ $mode == reference ]] && name="encoding/xml (--reference)"
			awk -v size="$size ($mb MB, $txs tx)" -v name="$name" -v mb="$mb" -v tx="$txs" -v w="$w" -v c="$c" -v k="$k" 'BEGIN {
				printf "| %s | %s | %.0f | %.0f | %.0f | %.1f MB | %.2f |\n", size, name, mb / w, mb / c, tx / w, k / 1024, w }'
		done
	done
	echo
}

matcher_bench() {
	echo "### Matcher: \`go test ./matcher -run '^\$' -bench BenchmarkMatch -benchmem -count $RUNS\`"
	echo
	host
	go test ./matcher -run '^$' -bench BenchmarkMatch -benchmem -count "$RUNS" | tee "$LOGS/matcher-bench.txt" >/dev/null
	echo "| size | s/op (wall) | CPU s/op | transactions/s | MB allocated/op | allocs/op |"
	echo "|---|---|---|---|---|---|"
	awk '/^BenchmarkMatch/ {
		name = $1; sub(/-[0-9]+$/, "", name); sub(/BenchmarkMatch\//, "", name)
		for (i = 3; i < NF; i++) {
			if ($(i+1) == "ns/op") ns[name] = ns[name] " " $i
			if ($(i+1) == "cpu-s/op") cpu[name] = cpu[name] " " $i
			if ($(i+1) == "tx/s") tx[name] = tx[name] " " $i
			if ($(i+1) == "B/op") b[name] = b[name] " " $i
			if ($(i+1) == "allocs/op") al[name] = al[name] " " $i
		}
		names[name] = 1
	}
	function med(s,   a, n, i, j, t) {
		n = split(s, a, " ")
		for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
		return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	}
	END { for (n in names) printf "| %s | %.3f | %.3f | %.0f | %.0f | %.0f |\n", n, med(ns[n]) / 1e9, med(cpu[n]), med(tx[n]), med(b[n]) / 1048576, med(al[n]) }' \
		"$LOGS/matcher-bench.txt" | sort -t= -k2 -g
	echo
}

quality() {
	echo "### Quality: \`go test ./matcher -run TestBenchmarkQuality -count=1 -v\`"
	echo
	host ""
	go test ./matcher -run 'TestBenchmarkQuality$' -count=1 -v >"$LOGS/quality.txt" 2>&1 || true
	echo '```'
	sed -n 's/^ *quality_test.go:[0-9]*: //p' "$LOGS/quality.txt"
	grep -E '^(--- |ok|FAIL)' "$LOGS/quality.txt" || true
	echo '```'
	echo
}

# e2e_data SIZE [PROFILE]: generates (once) the data set of SIZE (N or NxM)
# with the generator's PROFILE (default $E2E_PROFILE, else classic) and
# prints "dir n items".
e2e_data() {
	local size=$1 n items d
	if [[ $size == *x* ]]; then
		n=${size%x*} items=${size#*x}
	else
		n=$size items=$((2 * size))
	fi
	local profile=${2:-${E2E_PROFILE:-classic}}
	d=$BENCH_DIR/data-$size
	[[ $profile != classic ]] && d=$BENCH_DIR/data-$profile-$size
	if [[ ! -s $d/truth.csv ]]; then
		"$BENCH_DIR/lettrage-bench" gen --profile "$profile" --seed 42 --n "$n" --items "$items" --out "$d" >"$LOGS/gen-$profile-$size.txt"
	fi
	echo "$d $n $items"
}

e2e() {
	echo "### \`lettrage match\` end to end (profile ${E2E_PROFILE:-classic})"
	echo
	host
	echo "| transactions × items | statement files (MB) | wall s | CPU s | peak RSS | lettered | auto-match rate | precision |"
	echo "|---|---|---|---|---|---|---|---|"
	for size in $E2E_SIZES; do
		local d n items
		read -r d n items < <(e2e_data "$size")
		local mb
		mb=$(du -sm "$d/statements" | cut -f1)
		cat "$d"/statements/*.xml "$d/open_items.csv" >/dev/null
		local walls=() cpus=() rsss=() runs=$RUNS note=""
		[[ $n -ge 1000000 ]] && runs=${RUNS_1M:-1}
		for r in $(seq "$runs"); do
			rm -rf "$d/out"
			local x=""
			read -r w c k x < <(timed "$LOGS/match-$size-$r" "$BENCH_DIR/lettrage" match --open-items "$d/open_items.csv" --statements "$d/statements" --out "$d/out" -c "$d/lettrage.yaml")
			walls+=("$w") cpus+=("$c") rsss+=("$k")
			[[ -n $x ]] && note=" (killed above MAX_RSS_GB=$MAX_RSS_GB)"
		done
		"$BENCH_DIR/lettrage-bench" score --truth "$d/truth.csv" --matches "$d/out/matches.csv" >"$LOGS/score-$size.txt" 2>&1 || true
		local w c k lettered rate prec
		w=$(printf '%s\n' "${walls[@]}" | median)
		c=$(printf '%s\n' "${cpus[@]}" | median)
		k=$(printf '%s\n' "${rsss[@]}" | median)
		read -r lettered prec rate < <(awk '$1 == "TOTAL" {print $4, $5, $6}' "$LOGS/score-$size.txt")
		awk -v note="$note" -v n="$n" -v items="$items" -v mb="$mb" -v w="$w" -v c="$c" -v k="$k" -v l="$lettered" -v rate="$rate" -v prec="$prec" 'BEGIN {
			printf "| %d × %d | %d | %.2f | %.2f | %.0f MB%s | %s | %s | %s |\n", n, items, mb, w, c, k / 1024, note, l, rate, prec }'
	done
	echo
	echo "runs: $RUNS (${RUNS_1M:-1} for 1,000,000); \`lettrage match -c DIR/lettrage.yaml\` takes the generator's matching settings (bank-charge tolerance 15.00 / 2 %)."
	echo
	local small=""
	for size in $E2E_SIZES; do
		[[ ${size%x*} -lt 1000000 ]] && small="$small $size"
	done
	[[ -z $small || ${E2E_ONCE:-1} == 0 ]] && return
	echo "### \`lettrage once -c DIR/lettrage.yaml\`: on-disk SQLite state, the generator's tolerance (15.00 / 2 %)"
	echo
	host ", one run"
	echo "| transactions × items | wall s | CPU s | peak RSS | lettered | auto-match rate | precision |"
	echo "|---|---|---|---|---|---|---|"
	for size in $small; do
		local d n items w c k lettered rate prec
		read -r d n items < <(e2e_data "$size")
		rm -rf "$d/out"
		read -r w c k < <(timed "$LOGS/once-$size" "$BENCH_DIR/lettrage" once -c "$d/lettrage.yaml")
		"$BENCH_DIR/lettrage-bench" score --truth "$d/truth.csv" --matches "$d/out/matches.csv" >"$LOGS/score-once-$size.txt" 2>&1 || true
		read -r lettered prec rate < <(awk '$1 == "TOTAL" {print $4, $5, $6}' "$LOGS/score-once-$size.txt")
		awk -v n="$n" -v items="$items" -v w="$w" -v c="$c" -v k="$k" -v l="$lettered" -v rate="$rate" -v prec="$prec" 'BEGIN {
			printf "| %d × %d | %.2f | %.2f | %.0f MB | %s | %s | %s |\n", n, items, w, c, k / 1024, l, rate, prec }'
	done
	echo
}

# passes: issue 14's protocol (docs/BENCHMARKS.md "What the payer said"):
# the remittance profile of the generator, `lettrage once` three times over
# the same data, scored after the first and the third pass, with the
# generator's configuration (defaults) and with the policies on.
PASS_SIZES=${PASS_SIZES-"10000 100000"}
PASS_SEEDS=${PASS_SEEDS-"42"}
PASS_CONFIGS=${PASS_CONFIGS-"defaults policies"}
passes() {
	echo "### Three passes of \`lettrage once\` on the remittance profile"
	echo
	host ", one run each"
	for seed in $PASS_SEEDS; do
		for n in $PASS_SIZES; do
			local d=$BENCH_DIR/remit-$seed-$n
			if [[ ! -s $d/truth.csv ]]; then
				"$BENCH_DIR/lettrage-bench" gen --profile remittance --seed "$seed" --n "$n" --out "$d" >"$LOGS/gen-remit-$seed-$n.txt"
			fi
			for cfg in $PASS_CONFIGS; do
				local yaml=$d/lettrage.yaml
				if [[ $cfg == policies ]]; then
					yaml=$d/lettrage-policies.yaml
					cp "$d/lettrage.yaml" "$yaml"
					cat >>"$yaml" <<-'YAML'
					      cash_discount:
					        - {currency: EUR, max_percent: "3", account: "665", reason: ESCOMPTE}
					      overpayment: on_account
					      duplicate_payment: on_account
					YAML
				fi
				rm -rf "$d/out"
				local walls=()
				for p in 1 2 3; do
					local w c k
					read -r w c k < <(timed "$LOGS/once-remit-$seed-$n-$cfg-$p" "$BENCH_DIR/lettrage" once -c "$yaml")
					walls+=("$w")
					"$BENCH_DIR/lettrage-bench" score --truth "$d/truth.csv" --matches "$d/out/matches.csv" \
						>"$LOGS/score-remit-$seed-$n-$cfg-$p.txt" 2>&1 || true
				done
				echo "seed $seed, $n transactions × $((2 * n)) items, configuration \`$cfg\`; wall s of the passes: ${walls[*]}"
				echo
				echo "| scenario | n | matchable | pass 1: auto | precision | auto-match | pass 3: auto | precision | auto-match |"
				echo "|---|---|---|---|---|---|---|---|---|"
				join <(awk 'NR > 1 && NF == 7 && $1 != "wrong" {print $1, $2, $3, $4, $5, $6}' "$LOGS/score-remit-$seed-$n-$cfg-1.txt" | sort) \
					<(awk 'NR > 1 && NF == 7 && $1 != "wrong" {print $1, $4, $5, $6}' "$LOGS/score-remit-$seed-$n-$cfg-3.txt" | sort) |
					awk '{ row = sprintf("| %s | %s | %s | %s | %s | %s | %s | %s | %s |", $1, $2, $3, $4, $5, $6, $7, $8, $9)
						if ($1 == "TOTAL") total = row; else print row } END { print total }'
				echo
				grep -h '^wrong automatic' "$LOGS/score-remit-$seed-$n-$cfg-1.txt" | sed 's/^/pass 1: /; s/$/  /'
				grep -h '^wrong automatic' "$LOGS/score-remit-$seed-$n-$cfg-3.txt" | sed 's/^/pass 3: /'
				echo
			done
		done
	done
}

# ab: `lettrage match` on the classic and on the remittance data of AB_SIZE,
# the runs interleaved (classic, remittance, classic, ...) so that both see
# the same load; medians and the ratio remittance / classic.
AB_SIZE=${AB_SIZE:-100000}
ab() {
	echo "### \`lettrage match\` $AB_SIZE: classic and remittance profiles, runs interleaved"
	echo
	host
	echo "| profile | transactions × items | statement files (MB) | wall s | CPU s | peak RSS | lettered | auto-match rate | precision |"
	echo "|---|---|---|---|---|---|---|---|---|"
	local profiles="classic remittance" p
	declare -A walls cpus rsss dirs
	for p in $profiles; do
		local d n items
		read -r d n items < <(e2e_data "$AB_SIZE" "$p")
		dirs[$p]=$d
		cat "$d"/statements/*.xml "$d/open_items.csv" >/dev/null
	done
	for r in $(seq "$RUNS"); do
		for p in $profiles; do
			local d=${dirs[$p]} w c k
			rm -rf "$d/out"
			read -r w c k < <(timed "$LOGS/ab-$p-$AB_SIZE-$r" "$BENCH_DIR/lettrage" match --open-items "$d/open_items.csv" --statements "$d/statements" --out "$d/out" -c "$d/lettrage.yaml")
			walls[$p]="${walls[$p]:-} $w" cpus[$p]="${cpus[$p]:-} $c" rsss[$p]="${rsss[$p]:-} $k"
		done
	done
	local wc cc
	for p in $profiles; do
		local d=${dirs[$p]} w c k lettered rate prec mb n items
		read -r d n items < <(e2e_data "$AB_SIZE" "$p")
		"$BENCH_DIR/lettrage-bench" score --truth "$d/truth.csv" --matches "$d/out/matches.csv" >"$LOGS/score-ab-$p-$AB_SIZE.txt" 2>&1 || true
		read -r lettered prec rate < <(awk '$1 == "TOTAL" {print $4, $5, $6}' "$LOGS/score-ab-$p-$AB_SIZE.txt")
		mb=$(du -sm "$d/statements" | cut -f1)
		w=$(printf '%s\n' ${walls[$p]} | median)
		c=$(printf '%s\n' ${cpus[$p]} | median)
		k=$(printf '%s\n' ${rsss[$p]} | median)
		[[ $p == classic ]] && wc=$w cc=$c
		awk -v p="$p" -v n="$n" -v items="$items" -v mb="$mb" -v w="$w" -v c="$c" -v k="$k" -v l="$lettered" -v rate="$rate" -v prec="$prec" 'BEGIN {
			printf "| %s | %d × %d | %d | %.2f | %.2f | %.0f MB | %s | %s | %s |\n", p, n, items, mb, w, c, k / 1024, l, rate, prec }'
	done
	echo
	awk -v w="$w" -v c="$c" -v wc="$wc" -v cc="$cc" 'BEGIN { printf "remittance / classic: wall ×%.2f, CPU ×%.2f (medians of %d runs each)\n", w / wc, c / cc, '"$RUNS"' }'
	echo "wall s of the runs: classic${walls[classic]}; remittance${walls[remittance]}"
}

# daemon_data SIZE: generates (once) the daemon section's data: SIZE
# transactions and SIZE open items (seed 9), one statement file per 1 % of
# the transactions. Prints the folder.
daemon_data() {
	local n=$1 d=$BENCH_DIR/daemon-data-$1
	if [[ ! -s $d/truth.csv ]]; then
		"$BENCH_DIR/lettrage-bench" gen --seed 9 --n "$n" --items "$n" --per-file $((n / 100)) --out "$d" >"$LOGS/daemon-gen-$n.txt"
	fi
	echo "$d"
}

# pg_start: a private PostgreSQL server for the daemon section (durable:
# fsync and synchronous_commit on, as a production server); sets PGPORT.
pg_start() {
	local bin=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
	local as=()
	[[ $(id -u) == 0 ]] && as=(runuser -u postgres --)
	PGDIR=$BENCH_DIR/pg
	PGPORT=${PGPORT:-55432}
	rm -rf "$PGDIR" && mkdir -p "$PGDIR"
	[[ $(id -u) == 0 ]] && chown postgres "$PGDIR"
	"${as[@]}" "$bin/initdb" -D "$PGDIR/data" -U postgres -A trust -E UTF8 --locale=C >"$LOGS/pg-initdb.txt"
	"${as[@]}" "$bin/pg_ctl" -D "$PGDIR/data" -l "$PGDIR/log" -w -o "-p $PGPORT -k $PGDIR -c listen_addresses=127.0.0.1 -c shared_buffers=256MB" start >/dev/null
	PG_STOP=("${as[@]}" "$bin/pg_ctl" -D "$PGDIR/data" -m fast stop)
}

# pg_cpu: CPU seconds of the PostgreSQL server so far (the postmaster and
# its reaped backends).
pg_cpu() {
	local pid
	pid=$(head -1 "$PGDIR/data/postmaster.pid")
	awk -v hz="$(getconf CLK_TCK)" '{print ($14 + $15 + $16 + $17) / hz}' "/proc/$pid/stat"
}

# daemon_row SIZE STORE STEP DIR: one `lettrage once` pass in DIR, timed,
# printed as a table row (with the server's CPU for PostgreSQL).
daemon_row() {
	local size=$1 store=$2 step=$3 dir=$4 log=$LOGS/daemon-$1-$2-${3// /_}
	local c0=0 c1=0 w c k x bytes examined
	[[ $store == postgres ]] && c0=$(pg_cpu)
	read -r w c k x < <(cd "$dir" && timed "$log" "$BENCH_DIR/lettrage" once -c lettrage.yaml)
	if [[ $store == postgres ]]; then
		c1=$(pg_cpu)
		bytes=$(psql -h 127.0.0.1 -p "$PGPORT" -U postgres -Atc "SELECT pg_database_size('bench$size')")
	else
		bytes=$(cat "$dir"/out/state.db* | wc -c)
	fi
	examined=$(sed -n 's/^  examined *//p' "$log" | head -1)
	awk -v size="$size × $size" -v store="$store" -v step="$step" -v w="$w" -v c="$c" -v s="$(echo "$c1 - $c0" | bc)" -v k="$k" -v b="$bytes" -v e="$examined$x" 'BEGIN {
		cpu = sprintf("%.1f", c); if (store == "postgres") cpu = cpu sprintf(" + server %.1f", s)
		printf "| %s | %s | %s | %.1f | %s | %.2f GB | %.0f MB | %s |\n", size, store, step, w, cpu, k / 1048576, b / 1048576, e }'
}

# daemon: `lettrage match` and the passes of `lettrage once` on the same
# data: the first pass (every file but the last, 99 % of the open items),
# a second and a third pass without new statements (the open exceptions
# re-examined against the items the pass before settled, until a pass
# changes nothing), an idle pass, a pass with 1 % new statements (the last
# file) and 1 % new items (the items held back), and the pass after it.
daemon() {
	local sizes=${DAEMON_SIZES:-100000} stores=${DAEMON_STORES:-sqlite postgres} compacted=()
	[[ -n ${BENCH_1M:-} ]] && sizes="$sizes 1000000"
	echo "### The daemon at scale: \`lettrage match\` and \`lettrage once\` passes (issue 18)"
	echo
	host ", one run per row"
	echo "| transactions × items | store | step | wall s | CPU s | peak RSS | state size | examined |"
	echo "|---|---|---|---|---|---|---|---|"
	[[ $stores == *postgres* ]] && pg_start
	for size in $sizes; do
		local src w last
		src=$(daemon_data "$size")
		last=$(ls "$src/statements" | sort | tail -1)
		for store in $stores; do
			w=$BENCH_DIR/daemon-$size-$store
			rm -rf "$w" && mkdir -p "$w/statements" "$w/held"
			cp "$src"/statements/*.xml "$w/statements/" && mv "$w/statements/$last" "$w/held/"
			awk 'NR == 1 || (NR - 1) % 100 != 0' "$src/open_items.csv" >"$w/open_items.csv"
			awk 'NR > 1 && (NR - 1) % 100 == 0' "$src/open_items.csv" >"$w/held/items.csv"
			if [[ $store == postgres ]]; then
				psql -h 127.0.0.1 -p "$PGPORT" -U postgres -qc "DROP DATABASE IF EXISTS bench$size" -c "CREATE DATABASE bench$size" >/dev/null
				sed 's|^  driver: sqlite|  driver: postgres|; s|^  sqlite: .*|  postgres: {dsn: "postgres://postgres@127.0.0.1:'"$PGPORT"'/bench'"$size"'?sslmode=disable"}|' \
					"$src/lettrage.yaml" >"$w/lettrage.yaml"
			else
				cp "$src/lettrage.yaml" "$w/"
				local x=""
				read -r mw mc mk x < <(timed "$LOGS/daemon-match-$size" "$BENCH_DIR/lettrage" match --open-items "$w/open_items.csv" \
					--statements "$w/statements" --out "$w/match-out" -c "$w/lettrage.yaml")
				awk -v size="$size × $size" -v w="$mw" -v c="$mc" -v k="$mk" -v x="$x" 'BEGIN {
					printf "| %s | (none) | `lettrage match` | %.1f | %.1f | %.2f GB | | %s |\n", size, w, c, k / 1048576, x }'
			fi
			cat "$w"/statements/*.xml "$w/open_items.csv" >/dev/null
			daemon_row "$size" "$store" "first pass" "$w"
			daemon_row "$size" "$store" "second pass" "$w"
			daemon_row "$size" "$store" "third pass" "$w"
			daemon_row "$size" "$store" "idle pass" "$w"
			mv "$w/held/$last" "$w/statements/" && cat "$w/held/items.csv" >>"$w/open_items.csv"
			daemon_row "$size" "$store" "1 % new statements + 1 % new items" "$w"
			daemon_row "$size" "$store" "pass after the delta" "$w"
			[[ $store == sqlite ]] && compacted+=("$(daemon_compact "$size" "$w")")
		done
	done
	[[ $stores == *postgres* ]] && "${PG_STOP[@]}" >/dev/null
	echo
	for line in "${compacted[@]}"; do echo "- $line"; done
	echo
}

# daemon_compact SIZE DIR: the SQLite state of the passes, vacuumed, before
# and after compacting every settled transaction (state.retention_days as
# if the retention were over: pipeline's TestCompactStateFile, on a copy).
daemon_compact() {
	local size=$1 dir=$2 db=$BENCH_DIR/compact-$1.db
	rm -f "$db" "$db-wal" "$db-shm"
	cp "$dir/out/state.db" "$db"
	[[ -f $dir/out/state.db-wal ]] && cp "$dir/out/state.db-wal" "$db-wal"
	LETTRAGE_COMPACT_DB=$db go test -count=1 -run '^TestCompactStateFile$' -v ./pipeline >"$LOGS/daemon-compact-$size.txt" 2>&1
	local line
	line=$(grep -o '[0-9]* transactions, [0-9]* compacted.*' "$LOGS/daemon-compact-$size.txt")
	echo "$size × $size, SQLite, compaction of the settled history: $line"
	rm -f "$db" "$db-wal" "$db-shm"
}

what=${1:-all}
build
case $what in
camt) camt_bench ;;
matcher) matcher_bench ;;
quality) quality ;;
e2e) e2e ;;
passes) passes ;;
ab) ab ;;
daemon) daemon ;;
all)
	camt_bench
	matcher_bench
	quality
	e2e
	;;
*)
	echo "usage: scripts/bench.sh [camt|matcher|quality|e2e|passes|ab|daemon|all]" >&2
	exit 2
	;;
esac
