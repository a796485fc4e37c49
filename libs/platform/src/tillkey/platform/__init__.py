"""The HTTP edge and runtime pieces every Tillkey service shares: config parsing, ids, clock,
authentication, problem+json errors, request/response schemas with OpenAPI, health, database,
idempotency, pagination and the process entrypoints."""
