"""Airflow DAG ``feeds_deadline``: a daily check that each month's six feeds landed by the
configured due day; e-mails the data engineers when they have not.

Wiring only (the file mentions "airflow" and "dag" so safe-mode discovery parses it): the DAG is
built by mfg_indicators.orchestration.deadline_dag.
"""

from mfg_indicators.orchestration.deadline_dag import build_feeds_deadline_dag

dag = build_feeds_deadline_dag()
