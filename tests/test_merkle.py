"""The Merkle tree over receipt hashes (petitions/merkle.py, docs/proofs.md): every member's proof
climbs to the root, nobody else's does, and a proof changed in any way fails. Also the offline
checks anyone can run: manage.py verify_proof and tools/verify_proof.py."""

import hashlib
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from hypothesis import given
from hypothesis import strategies as st

from petitions import merkle
from signatures import receipts

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("verify_proof", ROOT / "tools" / "verify_proof.py")
standalone = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(standalone)

receipt_hashes = st.binary(min_size=32, max_size=32)
hash_sets = st.sets(receipt_hashes, min_size=1, max_size=70)


def proof_in_memory(members: set[bytes], receipt_hash: bytes):
    ordered = sorted(members)
    levels = merkle.in_memory_levels(ordered)
    return levels[-1], merkle.path_in_levels(levels, ordered.index(receipt_hash))


@given(hash_sets)
def test_every_members_proof_reaches_the_root_and_the_streamed_root_is_the_same(members):
    root, count = merkle.root_of(sorted(members))
    assert count == len(members)
    for member in members:
        in_memory_root, path = proof_in_memory(members, member)
        assert in_memory_root == root
        assert merkle.verify(member, path, root)


@given(hash_sets, receipt_hashes)
def test_no_outsiders_proof_reaches_the_root(members, outsider):
    root, _count = merkle.root_of(sorted(members))
    if outsider in members:
        return
    # An outsider may borrow any member's path: it still lands elsewhere.
    for member in members:
        _root, path = proof_in_memory(members, member)
        assert not merkle.verify(outsider, path, root)


@given(hash_sets.filter(lambda s: len(s) > 1), st.data())
def test_a_tampered_path_fails(members, data):
    member = data.draw(st.sampled_from(sorted(members)))
    root, path = proof_in_memory(members, member)
    step = data.draw(st.integers(0, len(path) - 1))
    side, sibling = path[step]
    flipped = [*path]
    flipped[step] = (merkle.RIGHT if side == merkle.LEFT else merkle.LEFT, sibling)
    changed = [*path]
    bit = data.draw(st.integers(0, 255))
    changed[step] = (side, bytes([sibling[0] ^ (1 << (bit % 8))]) + sibling[1:])
    for tampered in (flipped, changed, path[:-1], [*path, path[-1]]):
        assert not merkle.verify(member, tampered, root)


def test_a_leaf_cannot_pass_for_a_node():
    """Domain separation: the two children of a node, glued together, are no receipt."""
    a, b = hashlib.sha256(b"a").digest(), hashlib.sha256(b"b").digest()
    root, _count = merkle.root_of(sorted([a, b]))
    glued = merkle.leaf_hash(min(a, b)) + merkle.leaf_hash(max(a, b))
    assert not merkle.verify(hashlib.sha256(glued).digest(), [], root)
    assert root != merkle.leaf_hash(glued)


def test_an_odd_node_is_promoted_unchanged_not_duplicated():
    three = sorted(hashlib.sha256(bytes([n])).digest() for n in range(3))
    leaves = [merkle.leaf_hash(r) for r in three]
    expected = merkle.node_hash(merkle.node_hash(leaves[0], leaves[1]), leaves[2])
    assert merkle.root_of(three) == (expected, 3)
    # Duplicating the last would make four leaves' root from three: it is not that.
    four = merkle.node_hash(
        merkle.node_hash(leaves[0], leaves[1]), merkle.node_hash(leaves[2], leaves[2])
    )
    assert expected != four


def test_empty_and_single_trees():
    assert merkle.root_of([]) == (hashlib.sha256(b"").digest(), 0)
    only = hashlib.sha256(b"x").digest()
    assert merkle.root_of([only]) == (merkle.leaf_hash(only), 1)
    assert merkle.verify(only, [], merkle.leaf_hash(only))


def test_a_receipt_is_given_as_its_code_or_as_its_hash():
    code = receipts.new_code()
    digest = receipts.digest(code)
    assert merkle.receipt_hash_of(code) == digest
    assert merkle.receipt_hash_of(digest.hex()) == digest
    assert merkle.receipt_hash_of(digest.hex().upper()) == digest


def test_the_code_as_printed_or_typed_hashes_to_what_the_signature_stored():
    code = receipts.new_code()
    stored = receipts.digest(code)
    typed = [receipts.grouped(code), receipts.grouped(code).lower(), " ".join(code)]
    for text in typed:
        assert merkle.receipt_hash_of(text) == stored, text
        # The standalone checker, which shares no code with the site, reads it the same way.
        assert standalone.receipt_hash(text) == stored, text


@pytest.fixture
def a_proof():
    members = {hashlib.sha256(bytes([n])).digest() for n in range(11)}
    member = sorted(members)[6]
    root, path = proof_in_memory(members, member)
    return member, root, json.dumps([(side, sibling.hex()) for side, sibling in path])


def test_verify_proof_command_checks_offline(a_proof, capsys):
    member, root, path = a_proof
    call_command("verify_proof", receipt=member.hex(), root=root.hex(), path=path)
    assert "valid" in capsys.readouterr().out
    with pytest.raises(CommandError):
        call_command("verify_proof", receipt=member.hex(), root=("00" * 32), path=path)


def test_verify_proof_command_reads_a_path_file(a_proof, tmp_path, capsys):
    member, root, path = a_proof
    (tmp_path / "path.json").write_text(path)
    call_command(
        "verify_proof", receipt=member.hex(), root=root.hex(), path_file=tmp_path / "path.json"
    )
    assert "valid" in capsys.readouterr().out


def test_the_standalone_script_agrees(a_proof, tmp_path):
    member, root, path = a_proof
    script = ROOT / "tools" / "verify_proof.py"
    ok = subprocess.run(
        [sys.executable, "-I", str(script), member.hex(), root.hex(), path],
        capture_output=True,
        text=True,
    )
    assert ok.returncode == 0, ok.stderr
    wrong = subprocess.run(
        [sys.executable, "-I", str(script), ("11" * 32), root.hex(), path],
        capture_output=True,
        text=True,
    )
    assert wrong.returncode == 1
