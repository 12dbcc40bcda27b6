"""History import: store export files (Shopify, WooCommerce, any spreadsheet) → orders.

Parsers are pure (rows in, canonical orders and row errors out); `services` feeds the
orders through the one order upsert and checks the result month by month.
"""
