"""The sandbox card gateway: Tillkey's own test double of an external card payment provider.

A separate small process (`tillkey-sandbox-gateway`, default port 8009) that tokenizes cards,
takes charges and refunds with idempotency keys, and posts the results asynchronously to a
notification URL, signed the Standard Webhooks way.

It deliberately imports nothing from the rest of `tillkey.payments`: payments talks to it over
HTTP only, exactly as it would to a real provider, so the adapter is tested for real.
"""
