-- Search by phone (issue 14, page 4) without reading every placement record: each of the
-- debtor's phones as its digits reversed, indexed, so "the number ends with these digits"
-- is a prefix range on the index (arrears/store/search.py). "C" collation: digit order,
-- whatever the database's locale. Purged records (personal NULL) are not in the indexes.
CREATE INDEX placement_records_mobile_digits ON placement_records
    ((reverse(regexp_replace(personal->>'mobile', '\D', '', 'g')) COLLATE "C"))
    WHERE personal IS NOT NULL;
CREATE INDEX placement_records_home_phone_digits ON placement_records
    ((reverse(regexp_replace(personal->>'home_phone', '\D', '', 'g')) COLLATE "C"))
    WHERE personal IS NOT NULL;
CREATE INDEX placement_records_work_phone_digits ON placement_records
    ((reverse(regexp_replace(personal->>'work_phone', '\D', '', 'g')) COLLATE "C"))
    WHERE personal IS NOT NULL;
