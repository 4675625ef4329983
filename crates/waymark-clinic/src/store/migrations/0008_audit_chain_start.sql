-- Where the audit's hash chain begins: lines up to this one were written
-- before migration 7 and carry no hash; every later line must have one, so
-- clearing the hashes does not pass for "written before the chain".
CREATE TABLE audit_chain_start (seq INTEGER NOT NULL) STRICT;
INSERT INTO audit_chain_start (seq) SELECT coalesce(
    (SELECT min(seq) - 1 FROM admin_audit WHERE hash IS NOT NULL),
    (SELECT coalesce(max(seq), 0) FROM admin_audit));
CREATE TRIGGER audit_chain_start_fixed BEFORE UPDATE ON audit_chain_start BEGIN SELECT RAISE(ABORT, 'where the chain begins is fixed'); END;
CREATE TRIGGER audit_chain_start_kept BEFORE DELETE ON audit_chain_start BEGIN SELECT RAISE(ABORT, 'where the chain begins is fixed'); END;
