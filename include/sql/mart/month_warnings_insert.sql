{#- One warning of a documented month, in the document's order (seq). -#}
INSERT INTO mart_month_warning (plan_id, period, seq, source, table_name, rule, uscc, warning_period, message)
VALUES (:plan_id, :period, :seq, :source, :table_name, :rule, :uscc, :warning_period, :message)
