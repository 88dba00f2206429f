"""Jobs: what runs after a commit, in RQ workers (or in-process threads without Redis).

`outbox` (claim, route, pace, send per provider, record), `dispatch` (handing ids to RQ or to
threads), `runner` (the worker bootstrap: `RuntimeWorker` hands each job its runtime), `jobs`,
`offers`, `assistant`, `exports`, `seller_charts`, `media_fetch` and `seller_media`, `sweeper`
(recovery from the database), `rate_limit`, `ports` (the Runtime's shape). A job takes the
runtime first and ids after, and reloads everything it needs.
"""
