-- wrk: POST /v1/carts/{id}/checkout once per pre-made cart (a cart checks out only once).
-- Each wrk thread takes every n-th cart of the file named by CARTS_FILE; done() prints JSON.
local threads = {}
local counter = 0

function setup(thread)
  thread:set("index", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  local nthreads = tonumber(os.getenv("WRK_THREADS") or "2")
  carts = {}
  local i = 0
  for line in io.lines(os.getenv("CARTS_FILE")) do
    if i % nthreads == index then table.insert(carts, line) end
    i = i + 1
  end
  next_cart = 1
  body = '{"customer": {"email": "ada@example.com", "first_name": "Ada", "last_name": "Lovelace", ' ..
         '"country": "GB"}, "payment_method": "card", "consents": {"terms": true, "personal_data": true}}'
  headers = {["Content-Type"] = "application/json"}
end

function request()
  local cart = carts[next_cart]
  if cart == nil then
    wrk.thread:stop()
    cart = carts[#carts]
  end
  next_cart = next_cart + 1
  return wrk.format("POST", "/v1/carts/" .. cart .. "/checkout", headers, body)
end

function done(summary, latency, requests)
  io.write(string.format(
    'WRK_JSON {"requests": %d, "duration_us": %d, "non_2xx": %d, "socket_errors": %d, ' ..
    '"p50_ms": %.2f, "p99_ms": %.2f, "max_ms": %.2f}\n',
    summary.requests, summary.duration, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
