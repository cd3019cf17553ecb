"""Airflow DAG monthly_indicators: month M's indicators once its feeds have landed
(see mfg_indicators.orchestration.monthly_dag)."""
from mfg_indicators.orchestration.monthly_dag import build_monthly_dag

dag = build_monthly_dag()
