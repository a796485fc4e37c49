"""Events produced by the webhooks service."""
from marshmallow import fields

from tillkey.contracts.base import Id, MerchantScoped


class WebhookEndpointDisabled(MerchantScoped):
    """webhooks → notifications: an endpoint was disabled; its merchant is emailed."""

    endpoint_id = Id("ep", required=True)
    url = fields.String(required=True)
    reason = fields.String(required=True)


SCHEMAS = {("webhook_endpoint.disabled", 1): WebhookEndpointDisabled}
