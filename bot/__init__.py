"""Conversations: one state machine per role, the same on every channel.

`engine` loads the conversation state and runs a role's flow; `flow` declares the tables; each
role package (`buyer`, `seller`, `courier`, `admin`) holds `states`, `flow` (+ `flow.mmd`),
handlers grouped by concept, and `notifications` (how the outbox kinds read for that role).
`support` is the assistant; `messages` the channel-neutral replies; `i18n` and `locales` the
French and English catalogs. Handlers call core actions; nothing here knows a provider.
"""
