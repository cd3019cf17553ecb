"""Airflow DAG feed_ledgers: the ledgers feed's daily file-drop check (see mfg_indicators.orchestration.feed_dags)."""
from mfg_indicators.orchestration.feed_dags import make_feed_dag

dag = make_feed_dag("ledgers")
