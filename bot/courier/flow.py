"""The courier flow, declared as a table (see flow.mmd beside it).

SMS couriers send one self-contained command per message, so almost everything is a fallback
reachable from any state; Telegram adds the guided sign-up and the PIN prompt as states.
"""

from __future__ import annotations

from bot.courier import handlers as h
from bot.courier import signup as su
from bot.courier.states import CourierState as S
from bot.flow import ANY_TEXT, Context, Flow, Intent, Result, payload, words
from bot.messages import InboundMessage

JOB_CODE = Intent("job_code", h.is_job_command)  # A1042, P1042, D1042 482913, R1042
PIN = Intent("pin", h.is_pin)

COMMANDS = (
    (words("inscription", "join"), su.join),
    (JOB_CODE, h.job_command),
    (words("on", "dispo", "disponible", "available"), h.go_on),
    (words("off", "pause", "indisponible", "unavailable"), h.go_off),
    (words("gains", "gain", "earnings"), h.show_earnings),
    (words("courses", "jobs", "mes courses"), h.show_jobs),
    (words("solde", "balance"), h.show_balance),
    (words("remis", "remitted"), h.declare_remitted),
    (payload("c:bal"), h.show_balance),
    (words("aide", "help", "info", "menu", "commandes"), h.show_help),
    (words("en", "english", "anglais"), h.switch_language),
    (words("fr", "francais", "french"), h.switch_language),
    (payload("c:take:"), h.take_button),
    (payload("c:pick:"), h.pick_button),
    (payload("c:drop:"), h.drop_button),
    (payload("c:pin:"), h.ask_pin),
    (payload("c:on"), h.go_on),
    (payload("c:off"), h.go_off),
    (payload("c:jobs"), h.show_jobs),
    (payload("c:earn"), h.show_earnings),
    (payload("c:help"), h.show_help),
)


def entry(msg: InboundMessage, ctx: Context) -> Result:
    """A first message that is already a command (INSCRIPTION …, A1042) runs as one."""
    for intent, handler in COMMANDS:
        if intent(msg, ctx):
            return handler(msg, ctx)
    return h.start(msg, ctx)


FLOW = Flow(
    name="courier",
    entry=entry,
    states={
        S.IDLE: (),
        S.WAIT_PIN: ((PIN, h.pin_entered),),
        S.JOIN_NAME: ((words("inscription", "join"), su.join), (ANY_TEXT, su.join_name)),
        S.JOIN_PLACE: ((ANY_TEXT, su.join_place),),
        S.JOIN_VEHICLE: ((payload("c:veh:"), su.join_vehicle), (ANY_TEXT, su.join_vehicle)),
    },
    fallbacks=COMMANDS,
    unknown=h.unknown,
    help_key="courier.help",
    opted_out_key="courier.opted_out",
    opted_in_key="courier.opted_in",
    final_taps=("c:take:", "c:pick:", "c:drop:", "c:pin:", "c:veh:"),
)
