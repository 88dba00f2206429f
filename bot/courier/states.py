"""The courier conversation's states (see flow.mmd beside it).

SMS couriers live in IDLE: every command is one self-contained message. Telegram adds a
guided sign-up and a PIN prompt after the "Delivered" button.
"""

from enum import StrEnum


class CourierState(StrEnum):
    IDLE = "idle"
    WAIT_PIN = "wait_pin"  # Telegram: "Delivered" tapped, the buyer's PIN comes next
    JOIN_NAME = "join_name"  # Telegram sign-up: name, then place, then vehicle
    JOIN_PLACE = "join_place"
    JOIN_VEHICLE = "join_vehicle"
