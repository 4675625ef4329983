-- Referrals from partner agencies, before and after screening. The form is
-- the records accepting it makes (`waymark_domain::intake::ReferralRecords`)
-- as JSON, inside the encrypted store like everything else; only ids,
-- times, codes and the status sit in columns of their own.
CREATE TABLE referrals (
    number INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    submitted_by TEXT NOT NULL,
    submitted_at TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('submitted', 'accepted', 'declined')),
    form TEXT NOT NULL CHECK (json_valid(form)),
    decided_by TEXT,
    decided_at TEXT,
    decline_reason TEXT,
    advocate TEXT
) STRICT;
CREATE INDEX referrals_by_submitter ON referrals (submitted_by);
