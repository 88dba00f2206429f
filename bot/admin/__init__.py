"""The admin on Telegram: moderation of shops, products, couriers; reports, codes, exports."""
