"""A delivery pack's Merkle tree kept in the database (TreeChunk), and a signer's proof that their
signature was among those the pack counted. The tree itself is petitions/merkle.py."""

import bisect
import hashlib
import os
from collections.abc import Iterable

from django.db import connection, transaction
from django.db.models import Q
from django.db.models.expressions import RawSQL

from . import merkle
from .models import DeliveryPack, Petition, TreeChunk

SIZE = TreeChunk.SIZE
NODE = merkle.HASH_SIZE


class TreeWriter:
    """Takes the receipt hashes in ascending order and keeps the tree of `pack` as it goes: the
    leaves are written a chunk at a time and never held; the levels above, as bytearrays."""

    def __init__(self, pack: DeliveryPack):
        self.pack = pack
        self.pairs = merkle.LeafPairs()
        self.batch = bytearray()
        self.first: bytes | None = None
        self.chunks = 0

    def add(self, receipt_hash: bytes) -> None:
        receipt_hash = bytes(receipt_hash)
        if len(receipt_hash) != NODE:
            raise ValueError("a receipt hash is 32 bytes")
        if self.first is None:
            self.first = receipt_hash
        self.pairs.add(receipt_hash)
        self.batch += receipt_hash
        if len(self.batch) == SIZE * NODE:
            self._flush_leaves()

    def _flush_leaves(self) -> None:
        if self.batch:
            TreeChunk.objects.create(
                pack=self.pack, level=0, index=self.chunks, first=self.first, nodes=self.batch
            )
            self.chunks += 1
        self.batch, self.first = bytearray(), None

    def finish(self) -> tuple[bytes, int]:
        """Writes what is left and the levels above; returns the root and the leaf count."""
        self._flush_leaves()
        count = self.pairs.count
        if count <= 1:
            # No level above the leaves: the root is the one leaf, or the empty tree's.
            return (bytes(self.pairs.finish()) if count else merkle.EMPTY_ROOT), count
        nodes = b""
        for level, nodes in enumerate(merkle.levels_above(self.pairs.finish()), start=1):
            # A few chunks a statement: one INSERT of a whole level would hold it several times
            # over as query text.
            TreeChunk.objects.bulk_create(
                (
                    TreeChunk(
                        pack=self.pack,
                        level=level,
                        index=index,
                        nodes=nodes[start : start + SIZE * NODE],
                    )
                    for index, start in enumerate(range(0, len(nodes), SIZE * NODE))
                ),
                batch_size=8,
            )
        return bytes(nodes), count  # the last level: the root


def give_missing_receipts(signatures) -> int:
    """Rows signed before receipts were given get a receipt hash nobody holds the code of, so that
    every counted signature is one leaf of the tree and the tree's count is the pack's. The hash of
    a random value: nothing about the signer goes into it."""
    missing = signatures.filter(receipt__isnull=True)
    if connection.vendor == "postgresql":
        # One statement in the database, which a million rows need.
        return missing.update(receipt=RawSQL("sha256(gen_random_uuid()::text::bytea)", []))
    model = signatures.model
    for pk in (pks := list(missing.values_list("pk", flat=True))):
        model.objects.filter(pk=pk).update(receipt=hashlib.sha256(os.urandom(32)).digest())
    return len(pks)


def write_tree(pack: DeliveryPack, receipt_hashes: Iterable[bytes]) -> tuple[bytes, int]:
    """The tree of `pack` from receipt hashes in ascending order, replacing any earlier one."""
    with transaction.atomic():
        TreeChunk.objects.filter(pack=pack).delete()
        writer = TreeWriter(pack)
        for receipt_hash in receipt_hashes:
            writer.add(receipt_hash)
        return writer.finish()


def latest_pack(petition: Petition) -> DeliveryPack | None:
    return (
        DeliveryPack.objects.filter(
            petition=petition, status=DeliveryPack.Status.DONE, merkle_root__isnull=False
        )
        .order_by("-made_at", "-pk")
        .only("pk", "merkle_root", "signatures", "made_at")
        .first()
    )


def inclusion_proof(petition: Petition, receipt_hash: bytes) -> merkle.Proof | None:
    """The proof that this receipt's signature is in the petition's latest delivery pack, or None
    when it is not (signed after the pack, or not counted when it was made). Two indexed queries:
    the receipt's chunk of leaves, then one chunk a level above it."""
    pack = latest_pack(petition)
    if pack is None or not pack.signatures:
        return None
    receipt_hash = bytes(receipt_hash)
    found = (
        TreeChunk.objects.filter(pack=pack, level=0, first__lte=receipt_hash)
        .order_by("-first")
        .values_list("index", "nodes")
        .first()
    )
    if found is None:
        return None
    chunk_index, leaves = found[0], bytes(found[1])
    receipts = [leaves[start : start + NODE] for start in range(0, len(leaves), NODE)]
    offset = bisect.bisect_left(receipts, receipt_hash)
    if offset == len(receipts) or receipts[offset] != receipt_hash:
        return None
    position = chunk_index * SIZE + offset
    sizes = merkle.level_sizes(pack.signatures)
    # The node's own chunk on every level holds its sibling too: SIZE is even.
    wanted = [(level, (position >> level) // SIZE) for level in range(1, len(sizes) - 1)]
    chunks = {}
    if wanted:
        condition = Q()
        for level, index in wanted:
            condition |= Q(level=level, index=index)
        rows = TreeChunk.objects.filter(condition, pack=pack).values_list("level", "nodes")
        chunks = {level: bytes(nodes) for level, nodes in rows}
    path = []
    for level, size in enumerate(sizes[:-1]):
        node = position >> level
        sibling = node ^ 1
        if sibling >= size:
            continue  # promoted unchanged
        within = sibling % SIZE
        if level == 0:
            value = merkle.leaf_hash(receipts[within])
        else:
            value = merkle.node_at(chunks[level], within)
        path.append((merkle.LEFT if sibling < node else merkle.RIGHT, value))
    proof = merkle.Proof(
        root=bytes(pack.merkle_root),
        count=pack.signatures,
        made_at=pack.made_at,
        receipt_hash=receipt_hash,
        path=path,
    )
    return proof if proof.verifies() else None
