#!/bin/sh
# Refuses to start with a missing, placeholder or too-short secret (docker-compose's airflow-init
# and superset-init run it before anything else). Usage: check-secrets.sh NAME [NAME ...], each
# NAME an environment variable; MIN_SECRET_LENGTH (default 12) is the shortest value accepted.
# Exits 1 naming every variable refused, 0 when all are acceptable.
min="${MIN_SECRET_LENGTH:-12}"
status=0
for name in "$@"; do
  eval "value=\${$name:-}"
  lower=$(printf '%s' "$value" | tr '[:upper:]' '[:lower:]')
  case "$lower" in
    "")
      echo "ERROR: $name is not set: set it in .env (see .env.example)"; status=1; continue;;
    *change-me*|*changeme*|*change_me*|*replace-me*|*placeholder*)
      echo "ERROR: $name still has the placeholder of .env.example: set a real secret in .env"; status=1; continue;;
    password|passw0rd|secret|admin|airflow|postgres|warehouse|superset|root|test|example|default|12345*)
      echo "ERROR: $name is a well-known default value: set a real secret in .env"; status=1; continue;;
  esac
  if [ "${#value}" -lt "$min" ]; then
    echo "ERROR: $name is shorter than $min characters: set a longer secret in .env"; status=1
  fi
done
exit "$status"
