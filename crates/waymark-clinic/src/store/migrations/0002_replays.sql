-- A case reassigned at feed position `position`: the new advocate's laptops
-- receive the case's earlier history when their pull passes that position.
CREATE TABLE replays (
    advocate TEXT NOT NULL,
    case_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    PRIMARY KEY (advocate, case_id, position)
) STRICT, WITHOUT ROWID;
