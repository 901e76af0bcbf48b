"""Evaluate programs with pyDatalog, one JSON request per stdin line, one JSON answer per line.

A separate process because pyDatalog can loop forever inside its compiled resolver (on some
mutually recursive programs) where no signal interrupts it: the test kills and restarts this
worker on a timeout. Request: ``{"text": rules, "facts": {rel: [[v, ...], ...]},
"arity": {rel: n}, "idb": [rel, ...], "outputs": [rel, ...]}``; answer: ``{rel: [[v, ...]]}``.
"""

import json
import sys

from pyDatalog import pyDatalog


def evaluate(req: dict) -> dict[str, list[list[object]]]:
    pyDatalog.clear()
    pyDatalog.Logic(True)  # a fresh logic context: no state survives between programs
    for rel, n in req["arity"].items():
        if rel not in req["idb"]:  # define every input relation, even an empty one
            pyDatalog.assert_fact(f"r_{rel}", *([-1] * n))
            pyDatalog.retract_fact(f"r_{rel}", *([-1] * n))
    for rel, tuples in req["facts"].items():
        for t in tuples:
            pyDatalog.assert_fact(f"r_{rel}", *t)
    pyDatalog.load(req["text"])
    out: dict[str, list[list[object]]] = {}
    for rel in req["outputs"]:
        cols = ", ".join(f"Q{i}" for i in range(req["arity"][rel]))
        answer = pyDatalog.ask(f"r_{rel}({cols})")
        out[rel] = [] if answer is None else [list(t) for t in answer.answers]
    return out


def main() -> None:
    for line in sys.stdin:
        try:
            reply: dict[str, object] = {"ok": evaluate(json.loads(line))}
        except Exception as e:  # report, keep serving
            reply = {"error": f"{type(e).__name__}: {e}"}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
