"""Support assistant: answers a buyer's free-text question from the FAQ and their own orders.

Two modes share one set of scoped reads (`scoped.ScopedReader`): offline retrieval (no model,
answers within the webhook turn) and a LangChain agent over an OpenAI-compatible model (runs in
a worker). Whatever the mode, the reads are filtered by the asking user's id in code, so a
model talked into asking for someone else's order gets nothing.
"""
