-- The registry roster year used for year :year: :year itself, else the latest earlier one.
SELECT MAX(roster_year) AS roster_year FROM core_registry WHERE roster_year <= :year
