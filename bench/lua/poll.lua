-- GET /v1/tasks/{id} over a set of existing task ids, read from the file named after `--`.
local ids = {}
local next_id = 1
local headers = { ["Authorization"] = "Bearer sk-bench-0123456789" }

function init(args)
  for line in io.lines(args[1]) do
    if #line > 0 then ids[#ids + 1] = line end
  end
  next_id = math.random(#ids)
end

function request()
  local id = ids[next_id]
  next_id = next_id % #ids + 1
  return wrk.format("GET", "/v1/tasks/" .. id, headers)
end

local json_done = dofile(os.getenv("BENCH_LUA_DIR") .. "/report.lua")
done = json_done
