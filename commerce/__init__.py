"""The core: Boutik's rules, with no channel, web framework, SDK or queue in sight.

One package or module per feature, each with the same shape (models, actions, errors, events):
`catalog`, `cart`, `orders`, `delivery` (couriers, jobs, pricing, codes, the hand-over),
`returns`, `reviews`, `moderation`, `loyalty`, `users`, `threads`, `messaging` (the outbox and
the notification kinds), `geo` (Guinea's places), `money`, `phones`. An action is a function
that does one business step in the caller's transaction and checks who may do it; business
parameters come with the session (`rules.of(session)`). Imports nothing of ours.
"""
