-- wrk script for bench_verify.sh: cycles GET requests over the verify paths
-- listed one per line in BENCH_PATHS_FILE (each wrk thread starts at a
-- different offset), with the headers and the BENCH_JSON summary line of
-- bench/report.lua (loaded from the repository root, where wrk runs).
dofile("bench/report.lua")

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
