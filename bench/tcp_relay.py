"""A TCP relay that can add latency, for the fault suite's network mode: this kernel has no netem.

    python bench/tcp_relay.py LISTEN_HOST LISTEN_PORT TO_HOST TO_PORT [--delay-ms 20]

Every chunk it reads is written on to the other side in order, half the delay after it arrived
(the delay is a round trip's), without holding up the chunks behind it: latency, not a narrower
pipe. It starts with no delay; SIGUSR1 turns the delay on, SIGUSR2 off. It prints the port it
listens on (useful with port 0) and relays until it is terminated.

Connections to it get keepalives and TCP_USER_TIMEOUT, so that one whose peer vanished behind a
dropped-packet fault is closed (and with it the connection on the other side) instead of holding a
server connection forever.
"""

import argparse
import asyncio
import contextlib
import signal
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Seconds: an idle connection probed after this, and given up this long after its peer's last ACK.
DEAD_PEER_S = 5


def tune(writer: asyncio.StreamWriter) -> None:
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, DEAD_PEER_S)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, 3)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT, DEAD_PEER_S * 1000)


class Relay:
    """The relay as a child process: `with Relay(...) as relay:`; relay.slow(True) adds the delay.
    `wrap` runs it elsewhere (a network namespace: bench/netns.py's Network.run)."""

    def __init__(self, host, port, to_host, to_port, *, delay_ms=20.0, wrap=(), log=None):
        self.host, self.to = host, (to_host, to_port)
        command = [*wrap, sys.executable, str(Path(__file__).resolve()), host, str(port)]
        command += [to_host, str(to_port), "--delay-ms", str(delay_ms)]
        self.process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=log or subprocess.DEVNULL,
            text=True,
            start_new_session=True,  # a Ctrl-C at the terminal is the suite's to handle
        )
        line = self.process.stdout.readline()
        if not line.startswith("port "):
            self.stop()
            raise RuntimeError(f"tcp_relay did not start (listening on {host}:{port})")
        self.port = int(line.split()[1])

    def slow(self, on: bool) -> None:
        self.process.send_signal(signal.SIGUSR1 if on else signal.SIGUSR2)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)

    def __enter__(self) -> "Relay":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


async def pipe(reader, writer, delay) -> None:
    """Copies reader to writer, each chunk `delay()` seconds after it was read."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue = asyncio.Queue()

    async def read():
        try:
            while data := await reader.read(65536):
                queue.put_nowait((loop.time() + delay(), data))
        except OSError:
            pass
        queue.put_nowait(None)

    reading = asyncio.create_task(read())
    try:
        while (item := await queue.get()) is not None:
            due, data = item
            if (wait := due - loop.time()) > 0:
                await asyncio.sleep(wait)
            writer.write(data)
            await writer.drain()
        with contextlib.suppress(OSError):
            writer.write_eof()
    except OSError:
        pass
    finally:
        reading.cancel()


async def serve(args) -> None:
    state = {"delay": 0.0}
    loop = asyncio.get_running_loop()
    one_way = args.delay_ms / 2000
    loop.add_signal_handler(signal.SIGUSR1, lambda: state.update(delay=one_way))
    loop.add_signal_handler(signal.SIGUSR2, lambda: state.update(delay=0.0))
    stopped = loop.create_future()
    loop.add_signal_handler(signal.SIGTERM, lambda: stopped.done() or stopped.set_result(None))

    def delay() -> float:
        return state["delay"]

    async def client(reader, writer):
        try:
            up_reader, up_writer = await asyncio.open_connection(args.to_host, args.to_port)
        except OSError:
            writer.close()
            return
        tune(writer)
        tune(up_writer)
        pipes = {
            asyncio.create_task(pipe(reader, up_writer, delay)),
            asyncio.create_task(pipe(up_reader, writer, delay)),
        }
        try:
            # Once one side is done, so is the other: a client that timed out a dead peer must
            # not leave its server connection open behind it.
            await asyncio.wait(pipes, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in pipes:
                task.cancel()
            for w in (writer, up_writer):
                w.close()

    server = await asyncio.start_server(client, args.host, args.port, backlog=1024)
    print(f"port {server.sockets[0].getsockname()[1]}", flush=True)
    async with server:
        await stopped


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    parser.add_argument("to_host")
    parser.add_argument("to_port", type=int)
    parser.add_argument("--delay-ms", type=float, default=20, help="round trip added when slow")
    asyncio.run(serve(parser.parse_args()))


if __name__ == "__main__":
    main()
