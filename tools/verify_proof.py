"""Check a petition signature's proof of inclusion with nothing but Python's hashlib: no Django, no
database, none of the site's code (docs/proofs.md says the same in words).

    python3 verify_proof.py RECEIPT ROOT PATH

RECEIPT: your receipt code, or its SHA-256 as 64 hex digits. ROOT: the 64 hex digits printed in
the delivery pack. PATH: the proof's path, as JSON ([["L", "hex"], ...]) or a file holding it.
Exits 0 and prints "valid" when the receipt is among the signatures the root fixes, else 1.
"""

import hashlib
import json
import sys
from pathlib import Path


def receipt_hash(text: str) -> bytes:
    text = text.strip()
    if len(text) == 64 and all(c in "0123456789abcdefABCDEF" for c in text):
        return bytes.fromhex(text)
    # The code as printed (ABCD-EFGH-...) or typed: capitals, no dashes or spaces, and I, L, O
    # read as 1, 1, 0 (Crockford's base32). Type Persian digits as 0-9.
    code = "".join(text.upper().replace("-", "").split())
    code = code.translate(str.maketrans({"I": "1", "L": "1", "O": "0"}))
    return hashlib.sha256(code.encode()).digest()


def verify(receipt: bytes, path: list, root: bytes) -> bool:
    node = hashlib.sha256(b"\x00" + receipt).digest()  # the leaf
    for side, sibling in path:
        sibling = bytes.fromhex(sibling)
        pair = sibling + node if side == "L" else node + sibling
        node = hashlib.sha256(b"\x01" + pair).digest()
    return node == root


if __name__ == "__main__":
    receipt, root, path = sys.argv[1:4]
    steps = json.loads(path if path.lstrip().startswith("[") else Path(path).read_text())
    valid = verify(receipt_hash(receipt), steps, bytes.fromhex(root.strip()))
    print("valid" if valid else "NOT valid")
    sys.exit(0 if valid else 1)
