"""Airflow DAG: the yearly 亩均效益综合评价 (classes A/B/C/D) and the 低效企业清单.
Wiring only: see mfg_indicators.orchestration.evaluation_dag."""

from mfg_indicators.orchestration.evaluation_dag import build_annual_evaluation_dag

dag = build_annual_evaluation_dag()
