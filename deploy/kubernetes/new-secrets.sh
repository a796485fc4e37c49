#!/bin/sh
# Prints an overlay's secrets.env with fresh random values (kustomize turns it into the Secret
# `tillkey-secrets`):
#   sh deploy/kubernetes/new-secrets.sh > deploy/kubernetes/overlays/production/secrets.env
# Keep it (and back it up): PLATFORM_SECRET signs every API key and order token already handed
# out. The broker's and the databases' passwords are not here: their operators generate them.
set -eu
hex() { od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n'; }
echo "ADMIN_TOKEN=$(hex 32)"
echo "PLATFORM_SECRET=$(hex 48)"
echo "SANDBOX_GATEWAY_SECRET=whsec_$(head -c 32 /dev/urandom | base64 | tr -d '\n')"
echo "SMTP_USER="
echo "SMTP_PASSWORD="
