"""A scripted OpenAI-compatible chat server: `/v1/chat/completions` answering what a test says.

Why a real HTTP server rather than a fake LangChain model: the support path's failures live in
the HTTP layer a fake model skips — `ChatOpenAI`'s timeout, a 500, a body that is not JSON, a
slow server holding a worker while buyers keep writing. Tests, the benches
(`bench/support_ack.py`, `bench/support_eval.py`) and a developer at the simulator all point
`[llm] base_url` here and script, per request, what "the model" does.

A script is a function of the request body to a reply (`Reply`): it sees the whole
conversation the client sent (system prompt, question, tool results), so a two-step "call a
tool, then answer from its result" needs no state and concurrent questions never mix. Scripts
are picked per request by the first rule whose words appear in the last user message, else the
default:

    server = ScriptedOpenAI(default=answer("Bonjour"))
    server.when("où est ma commande", tool_then_answer("order_status", {"order_id": 7}))
    server.when("lent", delay(30, answer("…"), release=event))
    base_url, shutdown = server.serve()          # base_url ends with /v1

Run it by hand: `python -m devtools.testkit.scripted_openai --port 8089 --delay 10`.
"""

from __future__ import annotations

import argparse
import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, Response, jsonify, request

Body = dict[str, Any]


@dataclass(frozen=True)
class Reply:
    """What the server answers to one request: an assistant message, or a raw HTTP response."""

    message: dict[str, Any] | None = None
    status: int = 200
    raw: str | None = None  # sent as is (invalid JSON, an error page)


Script = Callable[[Body], Reply]


# --- what a request says --------------------------------------------------------------------------


def last_user_text(body: Body) -> str:
    """The latest user message's text ('' if none)."""
    for message in reversed(body.get("messages") or []):
        if message.get("role") == "user":
            return _text(message.get("content"))
    return ""


def system_text(body: Body) -> str:
    for message in body.get("messages") or []:
        if message.get("role") == "system":
            return _text(message.get("content"))
    return ""


def tool_results(body: Body) -> list[Any]:
    """The tool results sent back since the latest user message, decoded when they are JSON."""
    found: list[Any] = []
    for message in reversed(body.get("messages") or []):
        if message.get("role") == "user":
            break
        if message.get("role") == "tool":
            content = _text(message.get("content"))
            try:
                found.append(json.loads(content))
            except ValueError:
                found.append(content)
    return list(reversed(found))


def _text(content: Any) -> str:
    if isinstance(content, list):  # content parts
        return "".join(p.get("text", "") for p in content if isinstance(p, dict))
    return str(content or "")


# --- scripts ------------------------------------------------------------------------------------


def answer(text: str | Callable[[Body], str]) -> Script:
    """A plain final answer (a string, or a function of the request)."""

    def script(body: Body) -> Reply:
        content = text(body) if callable(text) else text
        return Reply({"role": "assistant", "content": content})

    return script


def refusal(text: str = "Désolé, je ne peux pas vous aider avec cette demande.") -> Script:
    """The model declines in plain words, without the hand-off marker."""
    return answer(text)


_call_ids = itertools.count(1)


def tool_then_answer(
    tool: str,
    arguments: dict[str, Any],
    compose: Callable[[Any], str] | None = None,
) -> Script:
    """First request: a call of `tool` with `arguments`; once its result comes back, an answer
    made from that result by `compose` (default: the result's JSON, repeated verbatim — the
    worst case for a leak, since whatever the tool returned reaches the reply)."""

    def script(body: Body) -> Reply:
        results = tool_results(body)
        if not results:
            call = {
                "id": f"call_{next(_call_ids)}",
                "type": "function",
                "function": {"name": tool, "arguments": json.dumps(arguments)},
            }
            return Reply({"role": "assistant", "content": None, "tool_calls": [call]})
        result = results[-1]
        content = compose(result) if compose else json.dumps(result, ensure_ascii=False)
        return Reply({"role": "assistant", "content": content})

    return script


def other_users_order(order_id: int) -> Script:
    """The model (obeying an injection) asks for an order id that is not the buyer's, then
    repeats whatever it got."""
    return tool_then_answer("order_status", {"order_id": order_id})


def delay(seconds: float, then: Script, *, release: threading.Event | None = None) -> Script:
    """Hold the request `seconds` (or until `release` is set, whichever comes first), then
    answer as `then`. A client with a shorter timeout sees a timeout."""

    def script(body: Body) -> Reply:
        if release is not None:
            release.wait(seconds)
        else:
            time.sleep(seconds)
        return then(body)

    return script


def http_error(status: int = 500, detail: str = "internal error") -> Script:
    """An error response in OpenAI's error shape."""

    def script(body: Body) -> Reply:
        error = {"error": {"message": detail, "type": "server_error", "code": status}}
        return Reply(status=status, raw=json.dumps(error))

    return script


def invalid_json(raw: str = '{"id": "chatcmpl-x", "choices": [ {"message": ') -> Script:
    """HTTP 200 whose body is not JSON (a proxy's page, a truncated reply)."""

    def script(body: Body) -> Reply:
        return Reply(raw=raw)

    return script


# --- the server ---------------------------------------------------------------------------------


@dataclass
class ScriptedOpenAI:
    """The Flask app and its rules; `requests` keeps every request body, in arrival order."""

    default: Script = field(default_factory=lambda: answer("OK"))
    rules: list[tuple[str, Script]] = field(default_factory=list)
    requests: list[Body] = field(default_factory=list)
    # Requests being answered right now (a test waits for the slow one to have started).
    in_flight: int = 0
    started: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self.app = Flask("scripted-openai")
        self.app.add_url_rule("/v1/chat/completions", view_func=self._complete, methods=["POST"])
        self.app.add_url_rule("/v1/models", view_func=self._models, methods=["GET"])

    def when(self, words: str, script: Script) -> ScriptedOpenAI:
        """Requests whose last user message contains `words` (case-insensitive) get `script`."""
        self.rules.append((words.lower(), script))
        return self

    def script_for(self, body: Body) -> Script:
        question = last_user_text(body).lower()
        for words, script in self.rules:
            if words in question:
                return script
        return self.default

    def serve(self) -> tuple[str, Callable[[], None]]:
        """Serve on a free local port in a thread: `(base_url ending in /v1, shutdown)`."""
        from devtools.emulators import serve_in_thread

        base_url, shutdown = serve_in_thread(self.app)
        return f"{base_url}/v1", shutdown

    def _models(self) -> Response:
        return jsonify({"object": "list", "data": [{"id": "scripted", "object": "model"}]})

    def _complete(self) -> Response:
        body = request.get_json(force=True, silent=True) or {}
        with self._lock:
            self.requests.append(body)
            self.in_flight += 1
        self.started.set()
        try:
            reply = self.script_for(body)(body)
        finally:
            with self._lock:
                self.in_flight -= 1
        if reply.raw is not None:
            return Response(reply.raw, status=reply.status, mimetype="application/json")
        message = reply.message or {"role": "assistant", "content": ""}
        finish = "tool_calls" if message.get("tool_calls") else "stop"
        completion = {
            "id": f"chatcmpl-{len(self.requests)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", "scripted"),
            "choices": [{"index": 0, "message": message, "finish_reason": finish}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        }
        response = jsonify(completion)
        response.status_code = reply.status
        return response


def main(argv: list[str] | None = None) -> None:
    """A scripted model for the simulator or a bench by hand: every question gets one answer,
    after an optional delay."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8089)
    parser.add_argument("--delay", type=float, default=0.0, help="seconds before each answer")
    parser.add_argument("--answer", default="Votre commande est en route.")
    parser.add_argument(
        "--fail",
        choices=["none", "500", "json", "refuse"],
        default="none",
        help="answer with an HTTP 500, invalid JSON or a refusal instead",
    )
    args = parser.parse_args(argv)
    script: Script = {
        "none": answer(args.answer),
        "500": http_error(),
        "json": invalid_json(),
        "refuse": refusal(),
    }[args.fail]
    server = ScriptedOpenAI(default=delay(args.delay, script) if args.delay else script)
    print(f"scripted model at http://{args.host}:{args.port}/v1")
    server.app.run(host=args.host, port=args.port, threaded=True)


if __name__ == "__main__":
    main()
