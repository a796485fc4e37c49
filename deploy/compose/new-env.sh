#!/bin/sh
# Prints a deploy/.env for deploy/docker-compose.yml with fresh random secrets:
#   sh deploy/compose/new-env.sh > deploy/.env && chmod 600 deploy/.env
# Run it once; keep the file (the database and broker passwords are set when their volumes are
# first created, and PLATFORM_SECRET signs every API key and order token already handed out).
# deploy/.env is in .gitignore. Rotation: docs/deploy.md.
set -eu
hex() { od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n'; }       # URL-safe: goes into database URLs
b64() { head -c "$1" /dev/urandom | base64 | tr -d '\n'; }
cat <<ENV
# Tillkey compose secrets, made $(date -u +%Y-%m-%dT%H:%MZ) by deploy/compose/new-env.sh.
# Support and operations credential (Authorization: Bearer …).
ADMIN_TOKEN=$(hex 32)
# Signs merchant API keys and customer order tokens (every service checks them on its own).
PLATFORM_SECRET=$(hex 48)
# Signs the sandbox gateway's notifications to payments (Standard Webhooks secret).
SANDBOX_GATEWAY_SECRET=whsec_$(b64 32)
# The broker's only user (tillkey); guest is never created with a password anyone knows.
RABBITMQ_PASSWORD=$(hex 24)
# PostgreSQL superuser, used only by the init script; then one role per service, own database only.
POSTGRES_PASSWORD=$(hex 24)
ORDERS_DB_PASSWORD=$(hex 24)
PAYMENTS_DB_PASSWORD=$(hex 24)
FULFILLMENT_DB_PASSWORD=$(hex 24)
NOTIFICATIONS_DB_PASSWORD=$(hex 24)
WEBHOOKS_DB_PASSWORD=$(hex 24)
DASHBOARD_DB_PASSWORD=$(hex 24)
# Where customers reach the platform (checkout links, payment pages) and the sandbox; both names
# must resolve to this host (*.localhost does in browsers). PUBLIC_PORT is the one published port.
PUBLIC_HOST=tillkey.localhost
SANDBOX_PUBLIC_HOST=sandbox.localhost
PUBLIC_PORT=8080
# The merchant dashboard answers on its own name (dashboard.<anything>, deploy/routing.md), e.g.
# http://dashboard.localhost:8080/. Set true once TLS is in front of the proxy:
# DASHBOARD_COOKIE_SECURE=true
# Mail: Mailpit catches everything by default; point these at a real relay to send.
# SMTP_HOST=smtp.example.com
# SMTP_PORT=587
ENV
