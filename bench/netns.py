"""Hosts of a small network on this machine, for the fault suite's network mode and its tests: one
network namespace per host (`ip netns`), each joined by a veth pair to a bridge in the root
namespace, on a private /24 that nothing else here routes. The root namespace is on the bridge
too (`host_address`): the load, nginx and the suite's own checks run there.

Faults are packets dropped with iptables inside a host's namespace; the root namespace's rules
are never touched. Needs root, iproute2 and iptables (Debian: iptables)."""

import contextlib
import ipaddress
import secrets
import subprocess


def ip(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["ip", *args], capture_output=True, text=True, check=check)


def free_subnet() -> str:
    """A 10.213.N.0/24 that no address or route on this machine is in, as "10.213.N"."""
    used = ip("-4", "addr").stdout + ip("-4", "route").stdout
    for third in range(1, 255):
        prefix = f"10.213.{third}"
        if f"{prefix}." not in used:
            return prefix
    raise RuntimeError("no free 10.213.N.0/24")


class Network:
    """`with Network(["db", "redis", "app1"]) as net:` sets it up and takes it all down again."""

    def __init__(self, hosts: list[str]):
        self.tag = secrets.token_hex(2)  # names of our own: another run may be going on
        self.prefix = free_subnet()
        self.host_address = f"{self.prefix}.1"
        self.bridge = f"pfbr{self.tag}"
        self.address = {name: f"{self.prefix}.{n + 10}" for n, name in enumerate(hosts)}
        self.namespace = {name: f"pf{self.tag}-{name}" for name in hosts}
        self.links = {name: f"pf{self.tag}v{n}" for n, name in enumerate(hosts)}
        ipaddress.ip_address(self.host_address)  # a malformed prefix fails here, not in `ip`

    def __enter__(self) -> "Network":
        try:
            self.up()
        except BaseException:
            self.down()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.down()

    def up(self) -> None:
        ip("link", "add", self.bridge, "type", "bridge")
        ip("addr", "add", f"{self.host_address}/24", "dev", self.bridge)
        ip("link", "set", self.bridge, "up")
        for name, ns in self.namespace.items():
            ip("netns", "add", ns)
            ip("link", "add", self.links[name], "type", "veth", "peer", "name", "eth0", "netns", ns)
            ip("link", "set", self.links[name], "master", self.bridge, "up")
            ip("-n", ns, "addr", "add", f"{self.address[name]}/24", "dev", "eth0")
            ip("-n", ns, "link", "set", "eth0", "up")
            ip("-n", ns, "link", "set", "lo", "up")

    def down(self) -> None:
        """Deletes what up() made; a namespace whose processes still run goes when they end."""
        for name, ns in self.namespace.items():
            ip("link", "del", self.links[name], check=False)
            ip("netns", "del", ns, check=False)
        ip("link", "del", self.bridge, check=False)

    def run(self, host: str) -> list[str]:
        """The prefix that runs a command in `host`'s namespace (the same process: `ip netns
        exec` execs it, so its pid is the command's)."""
        return ["ip", "netns", "exec", self.namespace[host]]

    def iptables(self, host: str, *args: str) -> None:
        subprocess.run(
            [*self.run(host), "iptables", "-w", *args], check=True, capture_output=True, text=True
        )

    def rules(self, peers: list[str] | None) -> list[list[str]]:
        if peers is None:  # everyone but the namespace's own loopback
            return [["INPUT", "!", "-i", "lo"], ["OUTPUT", "!", "-o", "lo"]]
        addresses = [self.address.get(peer, peer) for peer in peers]
        return [
            *(["INPUT", "-s", address] for address in addresses),
            *(["OUTPUT", "-d", address] for address in addresses),
        ]

    def cut(self, host: str, peers: list[str] | None = None) -> None:
        """Drop every packet between `host` and `peers` (host names or addresses; all: None),
        both ways, as a dead link or a firewall would: no refusal, no reset, nothing."""
        for chain, *match in self.rules(peers):
            self.iptables(host, "-I", chain, *match, "-j", "DROP")

    def heal(self, host: str, peers: list[str] | None = None) -> None:
        for chain, *match in self.rules(peers):
            with contextlib.suppress(subprocess.CalledProcessError):
                self.iptables(host, "-D", chain, *match, "-j", "DROP")
