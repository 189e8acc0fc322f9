-- random-session.lua: wrk sends every request with a session picked at random from a
-- file of session tokens (one a line), as real traffic does, instead of one cookie
-- repeated. Any answer other than the expected status is counted and printed at the
-- end ("unexpected: N"), so a run whose sessions were refused cannot pass for fast.
--
--   wrk -s tests/bench/random-session.lua URL -- TOKENFILE [STATUS]
--
-- STATUS defaults to 200.

local tokens = {}
local expect = 200
local unexpected = 0
local threads = {}

function setup(thread)
	threads[#threads + 1] = thread
end

function init(args)
	local path = args[1]
	if path == nil then
		error("usage: wrk -s random-session.lua URL -- TOKENFILE [STATUS]")
	end
	for line in io.lines(path) do
		if line ~= "" then
			tokens[#tokens + 1] = line
		end
	end
	if #tokens == 0 then
		error("no session tokens in " .. path)
	end
	if args[2] ~= nil then
		expect = tonumber(args[2])
	end
	-- Each thread has its own Lua state: seed each differently.
	local addr = tonumber(tostring({}):match("0x(%x+)") or "0", 16) or 0
	math.randomseed(os.time() + addr % 1000003)
end

function request()
	local t = tokens[math.random(#tokens)]
	return wrk.format(nil, nil, { ["Cookie"] = "session=" .. t })
end

function response(status, headers, body)
	if status ~= expect then
		unexpected = unexpected + 1
	end
end

function done(summary, latency, requests)
	local n = 0
	for _, t in ipairs(threads) do
		n = n + (t:get("unexpected") or 0)
	end
	io.write(string.format("unexpected: %d\n", n))
end
