{#- The consecutive-months rules of one feed table in one statement (_consecutive_months.sql):
    each rule's condition comes from its own file (mom_jump.sql, cumulative_decrease.sql).
    Context: t (feed Table), columns ({rule: [(column, within_year), …]}), n_pairs. -#}
{% from "rules/_consecutive_months.sql" import pairs %}
{% import "rules/mom_jump.sql" as mom_jump %}
{% import "rules/cumulative_decrease.sql" as cumulative_decrease %}
{% set conditions = {"mom_jump": mom_jump.condition(), "cumulative_decrease": cumulative_decrease.condition()} %}
{% set checks = [] %}
{% for rule, cols in columns.items() %}
{% for c, within_year in cols %}
{% set _ = checks.append((rule, c, within_year, conditions[rule] | string)) %}
{% endfor %}
{% endfor %}
{{ pairs(t, checks, n_pairs) }}
