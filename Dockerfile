# The project image: Airflow 3.3.2 (Python 3.11) + the pinned stack of requirements.lock + free CJK
# fonts for the bulletin + the mfg-indicators package. Used by every Airflow service in
# docker-compose.yaml (api-server, scheduler, dag-processor, triggerer, Celery worker, init), with
# the FAB auth manager.
FROM apache/airflow:3.3.2-python3.11

USER root
# fonts-noto-cjk: 宋/黑 fallbacks (Noto Serif/Sans CJK SC); arphic: 楷/明 (see config fonts).
# Pango/HarfBuzz for WeasyPrint's PDF; fontconfig to find the fonts.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      fonts-noto-cjk fonts-arphic-ukai fonts-arphic-uming fontconfig \
      libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 \
 && fc-cache -f \
 && apt-get autoremove -yqq --purge \
 && apt-get clean \
 && rm -rf /var/lib/apt/lists/*

USER airflow
# Exact versions for every machine; pinning apache-airflow again keeps pip from moving it.
# The FAB auth manager (users and roles; docker-compose.yaml) is a provider of its own, pinned here
# because requirements.lock (the pipeline's and the tests' stack) has no use for it.
COPY --chown=airflow:0 requirements.lock /tmp/requirements.lock
RUN pip install --no-cache-dir "apache-airflow==3.3.2" -r /tmp/requirements.lock \
      "apache-airflow-providers-fab==3.10.2"

# The project: package + its non-Python parts (SQL, templates, expectations, plan configuration).
# paths.py finds them through MFG_PROJECT_ROOT.
ENV MFG_PROJECT_ROOT=/opt/mfg
COPY --chown=airflow:0 pyproject.toml README.md /opt/mfg/
COPY --chown=airflow:0 src /opt/mfg/src
COPY --chown=airflow:0 include /opt/mfg/include
COPY --chown=airflow:0 config /opt/mfg/config
COPY --chown=airflow:0 expectations /opt/mfg/expectations
COPY --chown=airflow:0 dags /opt/airflow/dags
COPY --chown=airflow:0 scripts/check-secrets.sh /opt/mfg/scripts/check-secrets.sh
RUN pip install --no-cache-dir --no-deps /opt/mfg \
 && python -c "import mfg_indicators.alerts, mfg_indicators.orchestration.common"
