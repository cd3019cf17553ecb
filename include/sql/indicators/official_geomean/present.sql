WITH {% include "indicators/official_geomean/_yearly.sql" %}
SELECT period FROM yearly ORDER BY period
