-- Champion / challenger (issue 15): the arm each case follows now, beside its policy. The
-- arm it was OPENED in (what reports count it in: intention to treat) is on its
-- `case_opened` event; the two differ only after a supervisor's `move_arm` override.
-- Cases written before arms existed were all champion. No grants: the roles' grants on
-- `cases` are table-wide (0002, 0004) and cover a new column.
ALTER TABLE cases ADD COLUMN arm text NOT NULL DEFAULT 'champion'
    CHECK (arm IN ('champion', 'challenger'));
