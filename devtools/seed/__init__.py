"""The demo seed (`boutik seed demo`): a believable Conakry marketplace.

- `data`: the demo world as plain tables (categories, sellers, products, couriers, buyers).
- `pictures`: the product photos, drawn with PIL.
- `seeder`: builds the world through the real commerce actions, in one transaction.
"""
