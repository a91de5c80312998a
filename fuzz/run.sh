#!/usr/bin/env bash
# Runs every atheris target for SECONDS seconds (default 60), one after the other, and sums up.
#
#   fuzz/run.sh [SECONDS] [TARGET...]        e.g.  fuzz/run.sh 300 sip
#
# Environment:
#   PYTHON        interpreter with atheris and the softphone deps (default: .venv/bin/python)
#   FUZZ_WORKDIR  where the growing corpora and crash files go (default: $TMPDIR/softphone-fuzz)
#   FUZZ_STRICT=1 also crash on the known bugs (see fuzz/README.md)
#   FUZZ_ARGS     extra libFuzzer flags, e.g. "-jobs=4 -workers=4"
#
# Exit status: 0 when no target crashed, 1 otherwise (crash inputs are listed at the end).
set -u

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
seconds="${1:-60}"
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(sip sdp rtp ws)

python="${PYTHON:-$root/.venv/bin/python}"
work="${FUZZ_WORKDIR:-${TMPDIR:-/tmp}/softphone-fuzz}"
mkdir -p "$work"

if ! "$python" -c "import atheris" 2>/dev/null; then
    echo "atheris is not installed for $python: $python -m pip install atheris" >&2
    exit 2
fi

declare -A seeds=(
    [sip]="$root/tests/sip/data/rfc4475 $root/tests/sip/data/rfc5118 $here/corpus/sip"
    [sdp]="$here/corpus/sdp"
    [rtp]="$here/corpus/rtp"
    [ws]="$here/corpus/ws"
)
declare -A max_len=([sip]=8192 [sdp]=8192 [rtp]=2048 [ws]=8192)

status=0
summary=()
for target in "${targets[@]}"; do
    script="$here/fuzz_$target.py"
    if [ ! -f "$script" ]; then
        echo "no such target: $target" >&2
        exit 2
    fi
    corpus="$work/corpus-$target"
    artifacts="$work/artifacts-$target"
    mkdir -p "$corpus" "$artifacts"
    log="$work/$target.log"
    existing_seeds=()
    for dir in ${seeds[$target]}; do
        [ -d "$dir" ] && existing_seeds+=("$dir")
    done
    echo "== fuzz_$target for ${seconds}s (log: $log)"
    dict_args=()
    [ -f "$here/$target.dict" ] && dict_args=(-dict="$here/$target.dict")
    # shellcheck disable=SC2086
    "$python" "$script" ${dict_args[@]+"${dict_args[@]}"} \
        -max_total_time="$seconds" \
        -max_len="${max_len[$target]}" \
        -timeout=10 \
        -rss_limit_mb=2048 \
        -print_final_stats=1 \
        -artifact_prefix="$artifacts/" \
        ${FUZZ_ARGS:-} \
        "$corpus" ${existing_seeds[@]+"${existing_seeds[@]}"} >"$log" 2>&1
    rc=$?
    runs="$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)"
    rate="$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)"
    crashes="$(find "$artifacts" -type f \( -name 'crash-*' -o -name 'timeout-*' -o -name 'oom-*' -o -name 'leak-*' \) | sort)"
    if [ $rc -ne 0 ] || [ -n "$crashes" ]; then
        status=1
        summary+=("fuzz_$target: ${runs:-?} inputs (${rate:-?}/s), exit $rc, FINDINGS:")
        while IFS= read -r file; do
            [ -n "$file" ] && summary+=("    $file")
        done <<<"$crashes"
        grep -m1 -B2 -A25 'Traceback\|ERROR: libFuzzer' "$log" | sed 's/^/    | /' | head -40
    else
        summary+=("fuzz_$target: ${runs:-?} inputs (${rate:-?}/s), no crash")
    fi
done

echo
echo "== summary (${seconds}s per target, work dir $work)"
printf '%s\n' "${summary[@]}"
echo "reproduce one input: $python fuzz/fuzz_TARGET.py CRASH_FILE"
exit $status
