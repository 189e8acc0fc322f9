-- webhook-post.lua: wrk sends what the delivery worker sends a webhook: a POST
-- of signed JSON with the delivery, event and timestamp headers (the local
-- receiver checks them), so "the receiver alone" does the same work per request.
wrk.method = "POST"
wrk.path = "/ok"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-Settings-Event"] = "alert"
wrk.headers["X-Settings-Delivery"] = "5f0b8c3e-2d7a-4c11-9e6b-0a1b2c3d4e5f"
wrk.headers["X-Settings-Timestamp"] = "1700000000"
wrk.headers["User-Agent"] = "settings-integrations/1"
wrk.body = '{"id":"5f0b8c3e-2d7a-4c11-9e6b-0a1b2c3d4e5f","type":"alert","test":false,' ..
	'"created_at":"2026-01-01T00:00:00Z","workspace":{"id":"00000000-0000-0000-0000-000000000001",' ..
	'"slug":"acme","name":"Acme Corp"},"integration":{"id":"00000000-0000-0000-0000-000000000002",' ..
	'"name":"Bench 1","type":"webhook"},"alert":{"type":"error_spike","severity":"error",' ..
	'"agent":null,"title":"Bench 1","message":"x"}}'
