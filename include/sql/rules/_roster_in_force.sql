{#- The roster in force for year :year — the plan fixes the 规上 roster once a year, so a year
    without its own roster (the 名录 arrives in spring) uses the latest earlier one. A scalar
    subquery; NULL when no roster of year :year or before is loaded. -#}
(SELECT MAX(roster_year) FROM core_registry WHERE roster_year <= :year)
