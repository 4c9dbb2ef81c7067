-- wrk script for bench/run.py: POST valid comments, each with its own email and body.
--
-- Arguments after "--": path, csrftoken cookie, csrfmiddlewaretoken, a file of form tokens (one
-- per line, URL-encoded, all made for that cookie: each can be used once), the number of wrk
-- threads (thread N takes lines N, N + threads, ...), a run id (makes every email unique across
-- runs) and the Unix time at which posting stops.
--
-- wrk runs a few seconds past that deadline, with delay() holding every connection idle
-- once it has passed, so that every comment sent gets its answer before wrk stops: the
-- database must then hold exactly as many new comments as there were 303 answers.
-- done() prints one line, "BENCH {json}", that run.py reads.

local threads = {}

function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  path, cookie, csrf, run = args[1], args[2], args[3], args[6]
  local thread_count = tonumber(args[5])
  deadline = tonumber(args[7])
  tokens = {}
  local line_number = 0
  for line in io.lines(args[4]) do
    if line_number % thread_count == id - 1 then
      tokens[#tokens + 1] = line
    end
    line_number = line_number + 1
  end
  counter, see_other, other = 0, 0, 0
  others = {}
  wrk.method = "POST"
  wrk.path = path
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
  wrk.headers["Cookie"] = "csrftoken=" .. cookie
end

function delay()
  if os.time() >= deadline then
    return 600000 -- posting is over: leave the connection idle until wrk stops
  end
  return 0
end

function request()
  counter = counter + 1
  local tag = run .. "-" .. id .. "-" .. counter
  -- Past the last token the form is sent with a used one: refused (400), counted as "other".
  local body = "csrfmiddlewaretoken=" .. csrf
    .. "&form_token=" .. tokens[math.min(counter, #tokens)]
    .. "&author_name=Bench+reader+" .. tag
    .. "&author_email=bench-" .. tag .. "%40example.com"
    .. "&body=Benchmark+comment+" .. tag .. ".+Thank+you+for+the+article."
    .. "&honeypot="
  return wrk.format(nil, nil, nil, body)
end

function response(status, headers, body)
  if status == 303 then
    see_other = see_other + 1
  else
    other = other + 1
    others[tostring(status)] = (others[tostring(status)] or 0) + 1
  end
end

function done(summary, latency, requests)
  local see_other_total, other_total, merged = 0, 0, {}
  for _, thread in ipairs(threads) do
    see_other_total = see_other_total + thread:get("see_other")
    other_total = other_total + thread:get("other")
    for status, count in pairs(thread:get("others")) do
      merged[status] = (merged[status] or 0) + count
    end
  end
  local statuses = {}
  for status, count in pairs(merged) do
    statuses[#statuses + 1] = string.format('"%s": %d', status, count)
  end
  io.write(string.format('BENCH {"see_other": %d, "other": %d, "other_statuses": {%s}}\n',
    see_other_total, other_total, table.concat(statuses, ", ")))
end
