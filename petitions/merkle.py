"""The Merkle tree over a delivery pack's counted signatures, by their receipt hashes: how it is
built, what a proof of inclusion is, and how anyone checks one. Plain hashlib and no database, so
the offline check (manage.py verify_proof) needs none; docs/proofs.md is the same in words.

- Leaves: the 32-byte receipt hashes, in ascending byte order (so the order says nothing about
  who signed when); leaf = SHA-256(0x00 || receipt hash).
- Node = SHA-256(0x01 || left || right). The prefixes keep a leaf from passing for a node.
- A level of odd length promotes its last node to the next level unchanged: duplicating it
  instead would let two different sets of leaves share one root.
- The root of no leaves is SHA-256 of nothing; of one leaf, that leaf.
"""

import datetime
import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from lib.normalise import receipt_code

HASH_SIZE = 32
LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
EMPTY_ROOT = hashlib.sha256(b"").digest()
# Sides of a sibling in a path: it stands to the left or to the right of the node being proved.
LEFT, RIGHT = "L", "R"


def leaf_hash(receipt_hash: bytes) -> bytes:
    return hashlib.sha256(LEAF_PREFIX + receipt_hash).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def level_sizes(count: int) -> list[int]:
    """How many nodes each level holds, the leaves first and the root last."""
    sizes = [count]
    while sizes[-1] > 1:
        sizes.append((sizes[-1] + 1) // 2)
    return sizes


def next_level(level: bytes | bytearray) -> bytearray:
    """The level above `level` (nodes of HASH_SIZE bytes side by side)."""
    out = bytearray()
    view = memoryview(level)
    end = len(level) - len(level) % (2 * HASH_SIZE)
    for start in range(0, end, 2 * HASH_SIZE):
        out += hashlib.sha256(NODE_PREFIX + view[start : start + 2 * HASH_SIZE]).digest()
    if end < len(level):
        out += view[end:]  # the odd one out, promoted unchanged
    return out


class LeafPairs:
    """Builds the first level above the leaves while the receipt hashes stream past in order, so
    that the leaves themselves are never held: half the tree's memory."""

    def __init__(self):
        self.count = 0
        self.pending: bytes | None = None
        self.above = bytearray()

    def add(self, receipt_hash: bytes) -> None:
        leaf = leaf_hash(receipt_hash)
        self.count += 1
        if self.pending is None:
            self.pending = leaf
        else:
            self.above += node_hash(self.pending, leaf)
            self.pending = None

    def finish(self) -> bytearray:
        if self.pending is not None:
            self.above += self.pending
            self.pending = None
        return self.above


def levels_above(first: bytearray) -> Iterator[bytearray]:
    """The first level above the leaves and every one above it, the root last."""
    level = first
    yield level
    while len(level) > HASH_SIZE:
        level = next_level(level)
        yield level


def root_of(receipt_hashes: Iterable[bytes]) -> tuple[bytes, int]:
    """The root and the leaf count of receipt hashes given in ascending order."""
    pairs = LeafPairs()
    last = b""
    for last in receipt_hashes:
        pairs.add(last)
    if pairs.count <= 1:
        return (leaf_hash(last) if pairs.count else EMPTY_ROOT), pairs.count
    *_, root = levels_above(pairs.finish())
    return bytes(root), pairs.count


def node_at(level: bytes | bytearray | memoryview, index: int) -> bytes:
    return bytes(level[index * HASH_SIZE : (index + 1) * HASH_SIZE])


def path_in_levels(levels: list[bytes], position: int) -> list[tuple[str, bytes]]:
    """The siblings from the leaf at `position` up to the root; `levels[0]` are the leaves."""
    path = []
    for level in levels[:-1]:
        size = len(level) // HASH_SIZE
        sibling = position ^ 1
        if sibling < size:
            path.append((LEFT if sibling < position else RIGHT, node_at(level, sibling)))
        position //= 2
    return path


def in_memory_levels(receipt_hashes: list[bytes]) -> list[bytes]:
    """Every level of the tree, for small sets and tests: the leaves first, the root last."""
    leaves = b"".join(leaf_hash(r) for r in sorted(receipt_hashes))
    levels = [leaves]
    while len(levels[-1]) > HASH_SIZE:
        levels.append(bytes(next_level(levels[-1])))
    return levels


def verify(receipt_hash: bytes, path: Iterable[tuple[str, bytes]], root: bytes) -> bool:
    """Whether the receipt hash, climbed through `path`, reaches `root`."""
    node = leaf_hash(receipt_hash)
    for side, sibling in path:
        if len(sibling) != HASH_SIZE or side not in (LEFT, RIGHT):
            return False
        node = node_hash(sibling, node) if side == LEFT else node_hash(node, sibling)
    return node == root


@dataclass(frozen=True)
class Proof:
    """That one receipt's signature was among the `count` counted in a delivery pack."""

    root: bytes
    count: int
    made_at: datetime.datetime
    receipt_hash: bytes
    path: list[tuple[str, bytes]]

    @property
    def leaf(self) -> bytes:
        return leaf_hash(self.receipt_hash)

    @property
    def root_hex(self) -> str:
        return self.root.hex()

    @property
    def receipt_hex(self) -> str:
        return self.receipt_hash.hex()

    @property
    def path_hex(self) -> list[tuple[str, str]]:
        return [(side, sibling.hex()) for side, sibling in self.path]

    @property
    def path_json(self) -> str:
        """What verify_proof and tools/verify_proof.py take: [["L", "hex"], ...], a step a line."""
        return "[\n" + ",\n".join(json.dumps(step) for step in self.path_hex) + "\n]"

    def verifies(self) -> bool:
        return verify(self.receipt_hash, self.path, self.root)


def path_from_json(text: str) -> list[tuple[str, bytes]]:
    """A path as printed by Proof.path_json; ValueError if it is not one."""
    try:
        steps = json.loads(text)
        return [(str(side), bytes.fromhex(sibling)) for side, sibling in steps]
    except (TypeError, json.JSONDecodeError) as exc:
        raise ValueError("a path is a JSON list of [side, hex] pairs") from exc


def receipt_hash_of(code_or_hash: str) -> bytes:
    """A receipt's hash from what a signer holds: the code as printed or typed (grouped, any
    case), or its hash as 64 hex digits."""
    text = code_or_hash.strip()
    if len(text) == 2 * HASH_SIZE:
        try:
            return bytes.fromhex(text)
        except ValueError:
            pass
    return hashlib.sha256(receipt_code(text).encode()).digest()
