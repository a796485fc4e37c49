#!/bin/sh
# One role and one database per service, each role owning only its own database, so a service holds
# no key to another's data (ARCHITECTURE.md: the services share no database). Passwords come from
# deploy/.env. Run by the compose service `databases` on every start, against the PostgreSQL server
# (PGHOST, PGUSER, PGPASSWORD): what exists is left as it is, what is missing is made — so a
# service added by a release (the dashboard) gets its database on an existing volume too.
set -eu
for service in orders payments fulfillment notifications webhooks dashboard; do
  password=$(printenv "$(echo "$service" | tr a-z A-Z)_DB_PASSWORD")
  psql -v ON_ERROR_STOP=1 --dbname postgres -v role="$service" -v password="$password" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', :'role', :'password')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'role') \gexec
SELECT format('CREATE DATABASE %I OWNER %I', :'role', :'role')
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'role') \gexec
REVOKE ALL ON DATABASE :"role" FROM PUBLIC;
SQL
done
