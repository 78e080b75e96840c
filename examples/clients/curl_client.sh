#!/bin/sh
# A small sora-character client in POSIX shell, with curl and jq.
#
# Settings come from the environment: SORA_BASE_URL, SORA_API_KEY, SORA_VIDEO_URL
# (optional) and SORA_MAX_WAIT (give-up bound in seconds, default 600). It prints one JSON
# object as its last line and exits 0 only on success, which is what
# `sora-mock conform --run "sh examples/clients/curl_client.sh"` reads.
set -u
: "${SORA_BASE_URL:?set SORA_BASE_URL}" "${SORA_API_KEY:?set SORA_API_KEY}"
VIDEO_URL=${SORA_VIDEO_URL:-https://example.com/video.mp4}
MAX_WAIT=${SORA_MAX_WAIT:-600}
INTERVAL=2
HEADERS=$(mktemp)
trap 'rm -f "$HEADERS"' EXIT

# call METHOD PATH [BODY]: sets STATUS and BODY. Retries 429 (after Retry-After) and 5xx
# (after 2, 4, 8, 16 s) at most 5 times; returns non-zero unless the answer is a 200.
call() {
    attempt=1
    while :; do
        : > "$HEADERS"
        if [ $# -ge 3 ]; then
            BODY=$(curl -sS -D "$HEADERS" -X "$1" "$SORA_BASE_URL$2" \
                -H "Authorization: Bearer $SORA_API_KEY" \
                -H 'Content-Type: application/json' -d "$3")
        else
            BODY=$(curl -sS -D "$HEADERS" "$SORA_BASE_URL$2" \
                -H "Authorization: Bearer $SORA_API_KEY")
        fi || BODY=''
        STATUS=$(sed -n '1s/^HTTP\/[0-9.]* \([0-9]*\).*/\1/p' "$HEADERS")
        case ${STATUS:-0} in
            200) return 0 ;;
            429 | 500 | 502 | 503 | 504 | 0)
                [ "$attempt" -ge 5 ] && return 1
                wait=$(tr -d '\r' < "$HEADERS" | sed -n 's/^[Rr]etry-[Aa]fter: *\([0-9]*\)$/\1/p')
                sleep "${wait:-$((INTERVAL << (attempt - 1)))}"
                attempt=$((attempt + 1)) ;;
            *) return 1 ;;
        esac
    done
}

error_out() {  # print the error outcome of the last call and exit 1
    code=$(printf '%s' "$BODY" | jq -r '.error.code // empty' 2>/dev/null)
    jq -cn --argjson s "${STATUS:-0}" --arg c "$code" \
        '{status: "error", http_status: $s, error_code: (if $c == "" then null else $c end)}'
    exit 1
}

request=$(jq -cn --arg v "$VIDEO_URL" '{model: "sora-character", video_url: $v, timestamps: "0,2"}')
call POST /v1/videos/generations "$request" || error_out
task_id=$(printf '%s' "$BODY" | jq -r .id)
started=$(date +%s)
sleep "$INTERVAL"
while :; do
    call GET "/v1/tasks/$task_id" || error_out
    case $(printf '%s' "$BODY" | jq -r .status) in
        completed)
            printf '%s' "$BODY" | jq -c '{status: "completed", character_name: .result_data.character_name}'
            exit 0 ;;
        failed)
            printf '%s' "$BODY" | jq -c '{status: "failed", error_code: .error.code}'
            exit 1 ;;
    esac
    if [ $(($(date +%s) - started + INTERVAL)) -gt "$MAX_WAIT" ]; then
        echo '{"status": "timeout"}'
        exit 1
    fi
    sleep "$INTERVAL"
done
