"""The seller on Telegram: onboarding, products, promotions, orders and dispatch, returns, stats.

`onboarding`, `wizard` and `products`, `promotions`, `orders`, `dispatch` (publishing a job,
the bonus), `returns` (returns and reviews), `stats` and `charts`, `notifications`.
"""
