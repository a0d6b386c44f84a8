"""A delivery pack fixes its counted signatures in a Merkle tree kept in the database: the pack
prints the root, a signer's proof comes from a few rows of it and is the one an in-memory tree
gives, and a signature the pack did not count has no proof."""

import csv
import hashlib
import html
import re
from pathlib import Path

import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from petitions import inclusion, merkle
from petitions.delivery import build
from petitions.models import DeliveryPack, TreeChunk
from signatures import receipts
from signatures.models import Signature
from tests.factories import make_petition, make_signature
from tests.test_delivery_pack import pdf_text
from tests.test_receipts import answer, signed_code

pytestmark = pytest.mark.django_db


def receipt(n) -> bytes:
    return hashlib.sha256(f"receipt-{n}".encode()).digest()


@pytest.fixture
def pack_dir(settings, tmp_path):
    settings.DELIVERY_PACK_ROOT = tmp_path / "packs"
    return settings.DELIVERY_PACK_ROOT


@pytest.fixture
def small_chunks(monkeypatch):
    """Chunks of four nodes, so that a few dozen signatures span many chunks on every level."""
    monkeypatch.setattr(inclusion, "SIZE", 4)


def petition_with(count: int):
    petition = make_petition()
    for n in range(count):
        make_signature(petition, receipt=receipt(n))
    return petition


@pytest.mark.parametrize("count", [1, 2, 3, 5, 8, 37])
def test_the_database_proof_is_the_in_memory_trees(count, pack_dir, small_chunks):
    petition = petition_with(count)
    pack = build(DeliveryPack.objects.create(petition=petition))
    hashes = [receipt(n) for n in range(count)]
    levels = merkle.in_memory_levels(hashes)
    assert bytes(pack.merkle_root) == levels[-1]
    assert pack.signatures == count
    for n, receipt_hash in enumerate(sorted(hashes)):
        proof = inclusion.inclusion_proof(petition, receipt_hash)
        assert proof is not None
        assert proof.path == merkle.path_in_levels(levels, n)
        assert proof.root == levels[-1] and proof.count == count
        assert proof.made_at == pack.made_at
        assert merkle.verify(receipt_hash, proof.path, proof.root)


def test_a_proof_takes_two_queries_whatever_the_size(pack_dir, small_chunks):
    petition = petition_with(40)
    build(DeliveryPack.objects.create(petition=petition))
    with CaptureQueriesContext(connection) as queries:
        assert inclusion.inclusion_proof(petition, receipt(7)) is not None
    # The pack, the receipt's chunk of leaves, one chunk a level above.
    assert len(queries) == 3


def test_a_signature_struck_off_before_the_pack_or_made_after_it_has_no_proof(pack_dir):
    petition = petition_with(6)
    Signature.objects.filter(receipt=receipt(2)).invalidate(by="test")
    make_signature(petition, receipt=receipt(99), status=Signature.Status.PENDING)
    pack = build(DeliveryPack.objects.create(petition=petition))
    assert pack.signatures == 5
    make_signature(petition, receipt=receipt(100))
    assert inclusion.inclusion_proof(petition, receipt(2)) is None
    assert inclusion.inclusion_proof(petition, receipt(99)) is None
    assert inclusion.inclusion_proof(petition, receipt(100)) is None
    assert inclusion.inclusion_proof(petition, receipt(3)) is not None
    assert inclusion.inclusion_proof(petition, b"\x00" * 32) is None
    assert inclusion.inclusion_proof(petition, b"\xff" * 32) is None


def test_the_proof_is_against_the_latest_pack(pack_dir):
    petition = petition_with(3)
    first = build(DeliveryPack.objects.create(petition=petition))
    make_signature(petition, receipt=receipt(50))
    second = build(DeliveryPack.objects.create(petition=petition))
    proof = inclusion.inclusion_proof(petition, receipt(50))
    assert proof.root == bytes(second.merkle_root) != bytes(first.merkle_root)
    assert proof.count == 4


def test_no_pack_no_proof():
    petition = petition_with(2)
    assert inclusion.inclusion_proof(petition, receipt(0)) is None


def test_signatures_from_before_receipts_are_leaves_nobody_can_prove(pack_dir):
    petition = petition_with(3)
    make_signature(petition)  # no receipt, as signed before receipts
    pack = build(DeliveryPack.objects.create(petition=petition))
    assert pack.signatures == 4
    assert Signature.objects.filter(petition=petition, receipt__isnull=True).count() == 0
    leaves = TreeChunk.objects.filter(pack=pack, level=0).values_list("nodes", flat=True)
    assert sum(len(bytes(nodes)) for nodes in leaves) == 4 * merkle.HASH_SIZE


def test_the_pack_prints_the_root_count_and_date(pack_dir):
    petition = petition_with(5)
    pack = build(DeliveryPack.objects.create(petition=petition))
    root = bytes(pack.merkle_root).hex()
    text = pdf_text(Path(pack.pdf.path))
    assert text.count(root) == 2  # once under each language's front pages
    assert "The 5 counted signatures on" in text
    with Path(pack.csv.path).open(encoding="utf-8-sig") as f:
        rows = {row["section"]: row["value"] for row in csv.DictReader(f)}
    assert rows["merkle_root"] == root
    assert rows["total"] == "5"
    assert rows["delivered"] == pack.made_at.isoformat()


@pytest.mark.parametrize(("language", "words"), [("en", "counted"), ("fa", "شمرده")])
def test_the_proof_partial_shows_the_proof_in_each_language(language, words, pack_dir):
    petition = petition_with(1200)
    build(DeliveryPack.objects.create(petition=petition))
    proof = inclusion.inclusion_proof(petition, receipt(4))
    with translation.override(language):
        html = render_to_string("petitions/_inclusion_proof.html", {"proof": proof})
    assert proof.root_hex in html and words in html
    assert all(sibling in html for _side, sibling in proof.path_hex)
    assert ("۱٬۲۰۰" if language == "fa" else "1,200") in html


@pytest.mark.parametrize("language", ["en", "fa"])
def test_the_receipt_page_shows_a_counted_signer_the_path_to_the_delivered_root(pack_dir, language):
    petition = make_petition(title_en='"Free" <script>them</script>', title_fa="آزادی ‌ي ك")
    code = signed_code(petition, language)
    removed = signed_code(petition, language, email="removed@example.com")
    make_signature(petition)
    Signature.objects.filter(receipt=receipts.digest(receipts.canonical(removed))).invalidate(
        by="mo"
    )
    pack = build(DeliveryPack.objects.create(petition=petition))

    page = answer(petition, code, language)
    root = bytes(pack.merkle_root).hex()
    assert root in page
    shown = re.search(r'<pre class="proof__hex"[^>]*>(.*?)</pre>', page, re.S)[1]
    path = merkle.path_from_json(html.unescape(shown))
    assert merkle.verify(receipts.digest(receipts.canonical(code)), path, bytes.fromhex(root))
    assert "proof__details" not in answer(petition, removed, language)
