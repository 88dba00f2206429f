"""How the core tells someone something: outbox rows written in the action's own transaction.

`outbox.notify` (and `notify_once`), `notices.Notice` (every notification kind, by name),
`events` (after-commit jobs to start), `models` (outbox, inbound de-duplication, conversation
state), `sms_text` (the GSM-7 and segment facts every layer above shares).
"""
