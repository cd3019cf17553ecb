{#- The registry roster year in force for year :year (rules/_roster_in_force.sql). -#}
SELECT {% include "rules/_roster_in_force.sql" %} AS roster_year
