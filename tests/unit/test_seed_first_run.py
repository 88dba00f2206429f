"""The demo a first run starts from: nothing stale waiting to fire, no description that lies.

`make run` seeds the demo and starts the server, whose sweeper offers every open delivery job
at once; a job the seed left open would end, minutes into the README's tour, with "Aucun livreur
n'a pris la course …" on the seller's phone. And a product's description is the first thing a
buyer reads on its card: earrings must not be "Tissu de qualité, cousu à Conakry".
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select

from commerce.catalog.models import Category, Product
from commerce.delivery.models import DeliveryJob, JobStatus
from devtools.seed.seeder import seed_demo
from tests.support import Db


@pytest.fixture
def seeded(db: Db, tmp_path: Path) -> Db:
    seed_demo(db.factory, tmp_path / "media")
    return db


def test_no_delivery_job_is_left_open_for_the_first_run_to_offer(seeded: Db) -> None:
    with seeded.session() as s:
        open_jobs = s.scalars(select(DeliveryJob).where(DeliveryJob.status == JobStatus.OPEN))
        assert [(j.id, j.order_id) for j in open_jobs] == []


# What a description may claim, and the products that can claim it (by name or category).
_CLAIMS: tuple[tuple[str, str, str], ...] = (
    # claim in the description, products it fits (regex on the name), categories it fits
    (r"\btissu\b", r"Robe|Ensemble|Jupe|Pagne|Tissu|Chemise|Boubou|Costume", ""),
    (r"\bcousue?s?\b|retouches", r"Robe|Ensemble|Jupe|Chemise|Boubou|Costume", ""),
    (r"\btailles? du\b|\bcoupe\b", r"Robe|Ensemble|Jupe|Chemise|Boubou|Jean|Maillot|Costume", ""),
    (r"\bpointures?\b", r"", "chaussures"),
    (r"\bneuf\b|sous emballage", r"^(?!.*reconditionné)", "telephones|electronique"),
    (r"double SIM", r"^(?!iPhone|Nokia)", "telephones"),
)


def test_every_description_fits_its_product(seeded: Db) -> None:
    wrong = []
    with seeded.session() as s:
        for product, slug in s.execute(
            select(Product, Category.slug).join(Category, Category.id == Product.category_id)
        ):
            text = product.description or ""
            for claim, names, categories in _CLAIMS:
                if not re.search(claim, text, re.IGNORECASE):
                    continue
                fits_name = re.search(names, product.name) is not None
                if categories:
                    fits = re.fullmatch(categories, slug) is not None and fits_name
                else:
                    fits = fits_name
                if not fits:
                    wrong.append(f"{product.name} ({slug}): {text}")
    assert wrong == []


def test_the_earrings_are_not_sewn_cloth(seeded: Db) -> None:
    with seeded.session() as s:
        earrings = s.scalar(select(Product).where(Product.name.like("Boucles d'oreilles%")))
        assert earrings is not None
        assert "Tissu" not in (earrings.description or "")
        assert "plaqué or" in (earrings.description or "").lower()
