"""Load the demo petition (converted from the seed page) with a crowd of made-up signers, so that a
fresh `make run` shows the page as it was published: 52,222 signatures on the way to 75,000."""

import datetime
import json
import random
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from petitions.models import Petition
from signatures.models import Signature, SignatureCount

SEED_FILE = Path(__file__).with_name("seed-petition.json")

# Made-up signers, each named in one script, as real people sign.
NAMES = {
    "en": (
        ("Sara", "Ali", "Maryam", "Reza", "Emily", "David", "Niloufar", "Omid", "Laleh", "James",
         "Shirin", "Kaveh", "Anna", "Dariush", "Leila", "Michael", "Parisa", "Babak", "Hannah"),
        ("Karimi", "Smith", "Ahmadi", "Cohen", "Rostami", "Miller", "Hosseini", "Brown", "Tehrani"),
    ),
    "fa": (
        ("سارا", "علی", "مریم", "رضا", "نیلوفر", "امید", "لاله", "شیرین", "کاوه", "داریوش", "لیلا",
         "پریسا", "بابک", "آرش", "مهسا", "نگار"),
        ("کریمی", "احمدی", "رستمی", "حسینی", "تهرانی", "موسوی", "رضایی"),
    ),
}  # fmt: skip
# Where they sign from: a city always in its own country, named in the signer's script;
# some leave the city out.
PLACES = {
    "en": (
        ("IR", "Tehran"), ("GB", "London"), ("CA", "Toronto"), ("US", "Los Angeles"),
        ("DE", "Berlin"), ("FR", "Paris"), ("SE", "Stockholm"), ("AU", "Sydney"),
        ("NL", "Amsterdam"), ("IL", "Tel Aviv"), ("TR", "Istanbul"), ("AE", "Dubai"),
        ("US", ""), ("GB", ""), ("CA", ""), ("DE", ""),
    ),
    "fa": (
        ("IR", "تهران"), ("IR", "شیراز"), ("IR", "اصفهان"), ("IR", "تبریز"), ("IR", ""),
        ("CA", "تورنتو"), ("US", "لس‌آنجلس"), ("DE", "برلین"), ("SE", "استکهلم"),
        ("TR", "استانبول"), ("AE", "دبی"), ("GB", "لندن"),
    ),
}  # fmt: skip


def load_seed_data() -> dict:
    return json.loads(SEED_FILE.read_text(encoding="utf-8"))


@transaction.atomic
def load_demo(signatures: int | None = None, stdout=None) -> Petition:
    data = load_seed_data()
    wanted = data.pop("signatures") if signatures is None else signatures
    data.pop("signatures", None)
    opened = datetime.datetime.fromisoformat(data.pop("opened_at")).replace(tzinfo=datetime.UTC)
    petition, _ = Petition.objects.update_or_create(
        slug=data.pop("slug"), defaults={**data, "opened_at": opened}
    )
    petition.full_clean()
    if petition.signatures.exists():
        return petition
    _add_demo_signers(petition, wanted, opened)
    if stdout:
        stdout.write(f"Loaded “{petition}” with {wanted:,} demo signatures.")
    return petition


def _add_demo_signers(petition: Petition, how_many: int, since: datetime.datetime) -> None:
    rng = random.Random(52222)  # noqa: S311 - the same made-up crowd every time
    now = timezone.now()
    step = (now - since) / max(how_many, 1)
    batch = []
    for n in range(how_many):
        language = rng.choice(("en", "fa"))
        first_names, last_names = NAMES[language]
        country, city = rng.choice(PLACES[language])
        batch.append(
            Signature(
                petition=petition,
                name=f"{rng.choice(first_names)} {rng.choice(last_names)}",
                email=f"demo-signer-{n}@example.invalid",
                email_canonical=f"demo-signer-{n}@example.invalid",
                country=country,
                locality=city,
                show_name=rng.random() < 0.8,
                listing=petition.signer_list,
                language=language,
                created_at=since + step * (n + 1),
                counted_at=since + step * (n + 1),
            )
        )
        if len(batch) == 5000:
            Signature.objects.bulk_create(batch)
            batch.clear()
    Signature.objects.bulk_create(batch)
    SignatureCount.set_total(petition.pk, how_many)
