{#- The months of the report on month :period — January (:year_start) up to :period of the same
    year. `alias` names the table whose `period` is tested. -#}
{{ alias }}.period >= :year_start AND {{ alias }}.period <= :period
