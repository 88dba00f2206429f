"""The courier by SMS (or Telegram): sign-up, ON/OFF, offers, pickup, proof at the door, earnings.

`signup`, `handlers` (availability, jobs, Telegram buttons), `commands` (A/R/P/D), `wording`
(SMS texts kept to one segment), `notifications`.
"""
