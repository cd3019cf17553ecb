-- After the upsert: rows past the configuration's end go (a group or prefix dropped from the file).
DELETE FROM plan_industry_group WHERE plan_id = :plan_id AND seq > :last_seq
