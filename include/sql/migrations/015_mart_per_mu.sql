-- mart_per_mu: the 亩均 evaluated set of a computed month (T03 亩均税收, T04 亩均增加值) by
-- industry group and town, both measures, excluded groups flagged — the cells the bulletin's
-- 主导产业 / 乡镇 rankings are built from. Written by the computation in the same transaction as
-- mart_indicator (the period's rows replaced), from the indicators' own SQL
-- (include/sql/indicators/per_mu/breakdown.sql), so the rankings and T03/T04 cannot
-- drift apart and the bulletin reads them instead of computing them again.

CREATE TABLE mart_per_mu (
    plan_id         TEXT NOT NULL,
    period          TEXT NOT NULL,               -- YYYY-MM
    measure         TEXT NOT NULL,               -- tax | value_added
    industry_group  TEXT NOT NULL,               -- the plan's industry group
    town            TEXT NOT NULL,
    excluded        INTEGER NOT NULL,            -- 1: a group left out of the targets (钢压延)
    n_included      INTEGER NOT NULL,            -- enterprises of the evaluated set in the cell
    numerator       DOUBLE PRECISION,            -- Σ tax (万元, months 1..N) or Σ value added at N
    land_mu         DOUBLE PRECISION,            -- Σ 用地面积 (亩)
    value           DOUBLE PRECISION,            -- numerator / land_mu
    PRIMARY KEY (plan_id, period, measure, industry_group, town)
);
