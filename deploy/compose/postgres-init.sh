#!/bin/sh
# First start of the PostgreSQL volume only (docker-entrypoint-initdb.d): one role and one database
# per service, each role owning only its own database, so a service holds no key to another's data
# (ARCHITECTURE.md: the services share no database). Passwords come from deploy/.env.
set -eu
for service in orders payments fulfillment notifications webhooks; do
  password=$(printenv "$(echo "$service" | tr a-z A-Z)_DB_PASSWORD")
  psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
       -v role="$service" -v password="$password" <<'SQL'
CREATE ROLE :"role" LOGIN PASSWORD :'password';
CREATE DATABASE :"role" OWNER :"role";
REVOKE ALL ON DATABASE :"role" FROM PUBLIC;
SQL
done
