-- What a database holder could change to give someone access: a device's
-- advocate, keys and standing, an enrolment code's advocate and expiry, and
-- the audit's lines and count. Each row now carries a MAC under the
-- clinic's key, checked whenever it is read; a row without one is refused.
ALTER TABLE devices ADD COLUMN mac bytea;
ALTER TABLE enrolments ADD COLUMN mac bytea;
ALTER TABLE admin_audit ADD COLUMN mac bytea;
ALTER TABLE audit_counter ADD COLUMN mac bytea;

-- Referral numbers are never given twice, even after the newest is erased.
CREATE TABLE referral_counter (highest bigint NOT NULL);
INSERT INTO referral_counter (highest) SELECT coalesce(max(number), 0) FROM referrals;

-- The one change the feed allows is the tombstone itself: its text and hash
-- too, not only the columns it keeps.
CREATE OR REPLACE FUNCTION ops_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NOT OLD.erased AND NEW.erased
       AND NEW.op = convert_to('{"erased":true}', 'UTF8') AND NEW.content_hash = convert_to('erased', 'UTF8')
       AND NEW.position = OLD.position AND NEW.op_id = OLD.op_id AND NEW.origin = OLD.origin
       AND NEW.seq = OLD.seq AND NEW.case_id IS NOT DISTINCT FROM OLD.case_id
       AND NEW.received_at = OLD.received_at AND NEW.hlc IS NULL AND NEW.old_advocate IS NULL
       AND EXISTS (SELECT 1 FROM erasures WHERE erasures.case_id = OLD.case_id) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'the feed is append-only';
END $$;
