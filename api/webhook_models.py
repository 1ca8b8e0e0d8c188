"""(being written) Webhook endpoints and deliveries."""
