"""Test and demo doubles of Shopify: a fake Admin API store and signed webhook deliveries."""
