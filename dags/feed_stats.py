"""Airflow DAG feed_stats: the stats feed's daily file-drop check (see mfg_indicators.orchestration.feed_dags)."""
from mfg_indicators.orchestration.feed_dags import make_feed_dag

dag = make_feed_dag("stats")
