"""`tillkey-admin`: operations on the broker and the outboxes (docs/operations.md)."""
