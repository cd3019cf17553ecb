-- The plan's industry groups (config industry_groups, industry_default_group,
-- per_mu_excluded_groups) as rows of plan_industry_group, for the statisticians' views, one row
-- per configured prefix. Written in its own short transaction before each computation, as an
-- upsert: concurrent computations of one plan write the same rows and never conflict.
INSERT INTO plan_industry_group (plan_id, seq, industry_group, prefix, per_mu_excluded)
VALUES (:plan_id, :seq, :industry_group, :prefix, :per_mu_excluded)
ON CONFLICT (plan_id, seq) DO UPDATE SET
    industry_group = excluded.industry_group,
    prefix = excluded.prefix,
    per_mu_excluded = excluded.per_mu_excluded
