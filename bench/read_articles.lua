-- wrk script for bench/nothing_lost.py: GET article pages at full speed, counting every status.
--
-- Arguments after "--": the paths to read, taken in turn by each connection's requests
-- (e.g. the seeded article and the article that receives the comments).
--
-- done() prints one line, "BENCH {json}", that bench/run.py's wrk() wrapper reads:
-- {"statuses": {"200": n, ...}, "server_errors": n5xx, "other": n_not_2xx_or_3xx}.

local threads = {}

function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  requests = {}
  for index, path in ipairs(args) do
    requests[index] = wrk.format("GET", path)
  end
  if #requests == 0 then
    requests[1] = wrk.format("GET", wrk.path)
  end
  -- Threads start on different paths, so that both pages are read from the first second.
  counter = id - 1
  statuses = {}
end

function request()
  counter = counter + 1
  return requests[(counter % #requests) + 1]
end

function response(status, headers, body)
  local key = tostring(status)
  statuses[key] = (statuses[key] or 0) + 1
end

function done(summary, latency, requests)
  local merged, server_errors, other = {}, 0, 0
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do
      merged[status] = (merged[status] or 0) + count
    end
  end
  local parts = {}
  for status, count in pairs(merged) do
    local code = tonumber(status)
    if code >= 500 then
      server_errors = server_errors + count
    end
    if code < 200 or code >= 400 then
      other = other + count
    end
    parts[#parts + 1] = string.format('"%s": %d', status, count)
  end
  table.sort(parts)
  io.write(string.format('BENCH {"statuses": {%s}, "server_errors": %d, "other": %d}\n',
    table.concat(parts, ", "), server_errors, other))
end
