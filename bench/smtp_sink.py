"""A local SMTP sink for benchmarks: aiosmtpd on a loopback port, in a process of its own, that
accepts every message, keeps nothing but who it was for, and on SIGTERM prints how many messages
arrived and to how many distinct recipients (a duplicate shows as the difference).

    .venv/bin/python bench/smtp_sink.py PORT
"""

import signal
import sys
import threading

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self):
        self.messages = 0
        self.recipients: set[str] = set()

    async def handle_DATA(self, server, session, envelope):
        self.messages += 1
        self.recipients.update(envelope.rcpt_tos)
        return "250 OK"


def main():
    port = int(sys.argv[1])
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    print("ready", flush=True)
    stop.wait()
    controller.stop()
    print(f"{sink.messages} {len(sink.recipients)}", flush=True)


if __name__ == "__main__":
    main()
