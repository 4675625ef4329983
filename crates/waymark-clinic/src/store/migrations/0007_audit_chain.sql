-- The audit becomes a hash chain: each new line keeps the SHA-256 of itself
-- and the line before (store::audit_hash), so `waymark-clinic audit verify`
-- finds a line changed or removed. Lines from before this migration keep no hash.
ALTER TABLE admin_audit ADD COLUMN hash TEXT;
