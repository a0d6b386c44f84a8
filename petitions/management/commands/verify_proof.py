import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from petitions import merkle


class Command(BaseCommand):
    help = (
        "Check a proof that a receipt is in a delivery pack's Merkle tree, offline: no database, "
        "only the receipt, the root printed in the pack and the proof's path (docs/proofs.md)."
    )
    requires_system_checks = []
    requires_migrations_checks = False

    def add_arguments(self, parser):
        parser.add_argument("--receipt", required=True, help="the receipt code, or its SHA-256 hex")
        parser.add_argument("--root", required=True, help="the root in the pack, 64 hex digits")
        given = parser.add_mutually_exclusive_group(required=True)
        given.add_argument("--path", help='the path as JSON: [["L", "hex"], ...]')
        given.add_argument("--path-file", type=Path, help="a file holding the path as JSON")

    def handle(self, *args, receipt, root, path, path_file, **options):
        try:
            steps = merkle.path_from_json(path if path is not None else path_file.read_text())
            root_bytes = bytes.fromhex(root.strip())
        except (ValueError, OSError) as exc:
            raise CommandError(str(exc)) from exc
        receipt_hash = merkle.receipt_hash_of(receipt)
        if not merkle.verify(receipt_hash, steps, root_bytes):
            raise CommandError("NOT valid: this receipt and path do not lead to that root.")
        self.stdout.write(
            json.dumps({"receipt_hash": receipt_hash.hex(), "root": root_bytes.hex()}) + "\nvalid"
        )
