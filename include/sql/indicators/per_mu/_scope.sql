{# The roster in force for year Y (rules/_roster_in_force.sql) and its 规上 enterprises. #}
roster AS (
    SELECT {% include "rules/_roster_in_force.sql" %} AS roster_year
),
above_scale AS (
    SELECT r.uscc, r.name, r.town, r.industry_code, r.land_mu
    FROM core_registry r
    JOIN roster ON r.roster_year = roster.roster_year
    WHERE r.is_above_scale = 1
)
