assessed AS (
    SELECT g.uscc, g.name, g.town, g.industry_code, g.industry_group, g.land_mu,
           g.amount, g.months_reported,
           CASE WHEN g.industry_group IN :excluded_groups THEN 1 ELSE 0 END AS excluded,
           CASE WHEN g.land_mu IS NULL OR g.land_mu <= 0 THEN 0
                WHEN g.months_reported < :months_needed THEN 0
                ELSE 1 END AS included
    FROM (
        SELECT n.uscc, n.name, n.town, n.industry_code, n.land_mu, n.amount, n.months_reported,
               {{ industry_group("n.industry_code") }} AS industry_group
        FROM numerator n
    ) g
)
