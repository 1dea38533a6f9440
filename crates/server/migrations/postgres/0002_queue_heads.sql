-- Claims find each repository's oldest pending delivery by a skip scan
-- over this index instead of walking the backlog in age order.
CREATE INDEX deliveries_queue_heads ON deliveries (status, repo_key, run_at, id);
