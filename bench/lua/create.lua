-- POST a valid create request on every call (static request: wrk's fast path).
wrk.method = "POST"
wrk.body = '{"model":"sora-character","video_url":"https://example.com/video.mp4","timestamps":"1,3"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer sk-bench-0123456789"

local json_done = dofile(os.getenv("BENCH_LUA_DIR") .. "/report.lua")
done = json_done
