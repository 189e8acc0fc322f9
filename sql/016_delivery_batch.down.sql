-- 016_delivery_batch (down)
DROP FUNCTION delivery_record_batch(uuid, uuid[], boolean[], timestamptz[], integer[], integer[], text[], text[], text[], integer);
DROP FUNCTION delivery_claim_batch(integer, integer, integer, integer);
DROP FUNCTION delivery_lease_claim(uuid, integer);
DROP FUNCTION alert_fanout_batch(uuid[], uuid[], uuid[]);
