#!/usr/bin/env bash
# Serve the app on the embedded default with a Celery worker and beat beside it.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBUG="${DEBUG:-1}"
PY=.venv/bin/python
mkdir -p var/celery/queue var/celery/processed
$PY manage.py migrate --no-input -v 0
$PY manage.py demo_user --superuser
if [ ! -f var/.seeded ] && $PY manage.py help seed_demo >/dev/null 2>&1; then
  $PY manage.py seed_demo --demo --contacts 150 --meetings 600 --seed 1 --groups 1 --group-size 20 && touch var/.seeded
fi
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM
.venv/bin/celery -A referralcrm worker --loglevel=WARNING --concurrency=1 --pool=solo &
pids+=($!)
.venv/bin/celery -A referralcrm beat --loglevel=WARNING &
pids+=($!)
echo
echo "  Referral CRM is starting on http://127.0.0.1:${PORT:-8000}/"
echo "  Log in as demo@example.com / demo-password (also an admin at /admin/)."
echo
$PY manage.py runserver "127.0.0.1:${PORT:-8000}"
