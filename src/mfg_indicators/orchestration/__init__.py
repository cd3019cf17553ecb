"""Airflow wiring: DAG factories called by the thin files in dags/ (logic stays in the package)."""
