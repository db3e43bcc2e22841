-- wrk script for bench_verify.sh: cycles GET requests over the verify paths
-- listed one per line in BENCH_PATHS_FILE (each wrk thread starts at a
-- different offset), with the headers and the BENCH_JSON summary line of
-- bench/report.lua (loaded from the repository root, where wrk runs).
-- BENCH_THINK_MS (default 0): each connection waits that long after an answer
-- before its next request, like a client that does something between two
-- verifications; wrk's latency excludes the wait.
dofile("bench/report.lua")

local think_ms = tonumber(os.getenv("BENCH_THINK_MS") or "0") or 0
if think_ms > 0 then
  delay = function()
    return think_ms
  end
end

local paths = {}
local index = 0
local counter = 0

setup = function(thread)
  thread:set("id", counter)
  counter = counter + 1
end

init = function(args)
  local file = assert(io.open(os.getenv("BENCH_PATHS_FILE"), "r"))
  for line in file:lines() do
    if line ~= "" then
      paths[#paths + 1] = line
    end
  end
  file:close()
  assert(#paths > 0, "BENCH_PATHS_FILE lists no paths")
  index = ((id or 0) * 7) % #paths
end

request = function()
  index = index % #paths + 1
  return wrk.format("GET", paths[index])
end
