-- wrk script for the benchmark: visitors reading a page, or signers (GET the form's token, then POST).
--
-- Run with one connection per thread (wrk -tN -cN), so each thread sees its requests and answers
-- in order and can time them itself. Settings come from the environment (bench/run.py sets them):
--   BENCH_MODE      "get" (GET BENCH_PATH) or "sign" (GET BENCH_FORM_PATH, then POST BENCH_PATH)
--   BENCH_PATH      the page to read, or the address the sign form posts to
--   BENCH_RANDOM_QUERY  "1": each GET adds a query string of its own (?x=<random>), as a visitor
--                   trying to make the site render every request would
--   BENCH_FORM_PATH where a signer gets the form's CSRF token and start stamp
--   BENCH_RATE      signatures (sign) or requests (get) per second per thread; 0 = as fast as possible
--   BENCH_MIN_AGE   seconds a form's start stamp must age before it is sent (the bot trap's minimum)
--   BENCH_PHASE     a number that keeps e-mail and client addresses apart between phases
--   BENCH_ORIGIN    the Origin header a browser on the site would send
--   BENCH_SAMPLES   file to write every answer to: kind, send time, latency (s), status
--   BENCH_FOLLOW    "1": after each signature, GET the page its POST redirects to, as a browser does
local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_usec; } bench_timeval;
int gettimeofday(bench_timeval *tv, void *tz);
]]
local tv = ffi.new("bench_timeval")
local function now()
  ffi.C.gettimeofday(tv, nil)
  return tonumber(tv.tv_sec) + tonumber(tv.tv_usec) / 1e6
end

local mode = os.getenv("BENCH_MODE") or "get"
local path = os.getenv("BENCH_PATH") or "/"
local form_path = os.getenv("BENCH_FORM_PATH") or path
local rate = tonumber(os.getenv("BENCH_RATE") or "0")
local min_age = tonumber(os.getenv("BENCH_MIN_AGE") or "0")
local phase = tonumber(os.getenv("BENCH_PHASE") or "0")
local origin = os.getenv("BENCH_ORIGIN") or ""
local samples_path = os.getenv("BENCH_SAMPLES")
local random_query = os.getenv("BENCH_RANDOM_QUERY") == "1"
local follow = os.getenv("BENCH_FOLLOW") == "1"

local threads = {}
local next_id = 1

function setup(thread)
  thread:set("tid", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

-- Per thread from here on.
samples = {}
local queue, qhead, qtail = {}, 1, 0
local count = 0
local kind, sent_at = "get", 0
-- The redirect a POST was answered with, for the next request when following (BENCH_FOLLOW).
local redirect = nil
local last_cookie = ""
local next_due = nil
-- A signer makes two requests per signature (following the redirect adds a third: that phase runs flat out).
local period = 0
if rate > 0 then
  period = 1 / (rate * (mode == "sign" and 2 or 1))
end

local function urlencode(s)
  return (s:gsub("[^%w%-_%.~]", function(c)
    return string.format("%%%02X", string.byte(c))
  end))
end

-- A client address of our own per signature: what a load balancer would append to X-Forwarded-For.
local function client_ip()
  local n = count
  return string.format("10.%d.%d.%d", (phase * 16 + tid) % 256, math.floor(n / 256) % 256, n % 256)
end

local function base_headers(ip)
  return {
    ["X-Forwarded-For"] = ip,
    ["X-Forwarded-Proto"] = "https",
    ["Accept-Language"] = "be",
  }
end

function delay()
  if period == 0 then
    return 0
  end
  local t = now()
  next_due = next_due or t
  local wait = next_due - t
  next_due = math.max(next_due, t - period) + period
  return math.max(0, wait * 1000)
end

local function sign_post(token)
  count = count + 1
  local ip = client_ip()
  -- The sign time, in milliseconds, rides in the address, so the SMTP stand-in can time the e-mail.
  local email = string.format("s%d.%d.%d.%d@bench.example.org", math.floor(now() * 1000), phase, tid, count)
  local body = table.concat({
    "title=Ms.", "first_name=Ada", "last_name=Bench", "email=" .. urlencode(email),
    "address=1007+Grand+Ave", "city=Des+Moines", "state=IA", "zip_code=50309", "country=", "phone=",
    "note=", "recipients=senators", "recipients=president", "consent=on", "website=",
    "form_started=" .. urlencode(token.started), "csrfmiddlewaretoken=" .. urlencode(token.csrf),
  }, "&")
  local headers = base_headers(ip)
  headers["Content-Type"] = "application/x-www-form-urlencoded"
  headers["Cookie"] = "csrftoken=" .. token.cookie
  headers["Origin"] = origin
  headers["Referer"] = origin .. form_path
  return wrk.format("POST", path, headers, body)
end

-- Once its first token is old enough, a signer's connection alternates: POST the oldest token, GET a
-- new one. Every signature then costs one GET and one POST at any moment of the run, as in a surge of
-- people, where some fetch the form while others send it; the queue keeps the tokens fetched in the
-- first BENCH_MIN_AGE seconds (the warm-up), so the oldest is always old enough. (Sending every ripe
-- token before fetching more made bursts: seconds of GETs only, then long runs of POSTs, and the
-- measured minute caught a varying share of each.)
function request()
  local t = now()
  if redirect then
    local target = redirect
    redirect = nil
    kind = "signed"
    sent_at = now()
    return target
  end
  local head = queue[qhead]
  if mode == "sign" and head and t - head.t >= min_age and kind ~= "post" then
    queue[qhead] = nil
    qhead = qhead + 1
    kind = "post"
    sent_at = now()
    last_cookie = head.cookie
    return sign_post(head)
  end
  kind = mode == "sign" and "form" or "get"
  sent_at = now()
  local target = mode == "sign" and form_path or path
  if random_query then
    count = count + 1
    target = string.format("%s?x=%d.%d.%d", target, tid, count, math.random(1, 1000000000))
  end
  return wrk.format("GET", target, base_headers(string.format("10.200.%d.1", tid)))
end

local function remember_token(headers, body)
  local cookie = nil
  for name, value in pairs(headers) do
    if name:lower() == "set-cookie" then
      cookie = value:match("csrftoken=([^;]+)")
    end
  end
  local csrf = body:match('name="csrfmiddlewaretoken" value="([^"]+)"') or body:match('"csrfmiddlewaretoken": *"([^"]+)"')
  local started = body:match('name="form_started" value="([^"]+)"') or body:match('"form_started": *"([^"]+)"')
  if cookie and csrf and started then
    qtail = qtail + 1
    queue[qtail] = { cookie = cookie, csrf = csrf, started = started, t = now() }
  end
end

-- The browser that signed asks for the page it was sent to, with its CSRF cookie and from its address.
local function signed_get(headers)
  local location = nil
  for name, value in pairs(headers) do
    if name:lower() == "location" then
      location = value
    end
  end
  if not location then
    return nil
  end
  local request_headers = base_headers(client_ip())
  request_headers["Cookie"] = "csrftoken=" .. last_cookie
  return wrk.format("GET", location, request_headers)
end

function response(status, headers, body)
  local t = now()
  samples[#samples + 1] = string.format("%s %.6f %.6f %d", kind, sent_at, t - sent_at, status)
  if kind == "form" and status == 200 then
    remember_token(headers, body)
  end
  if follow and kind == "post" and status == 302 then
    redirect = signed_get(headers)
  end
end

function done(summary, latency, requests)
  local out = io.open(samples_path, "w")
  for _, thread in ipairs(threads) do
    local lines = thread:get("samples")
    for i = 1, #lines do
      out:write(lines[i], "\n")
    end
  end
  out:write(string.format("errors connect=%d read=%d write=%d timeout=%d status=%d\n", summary.errors.connect,
    summary.errors.read, summary.errors.write, summary.errors.timeout, summary.errors.status))
  out:close()
end
