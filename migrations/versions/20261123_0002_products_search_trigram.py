"""Trigram index on products.search_text (PostgreSQL only).

Why: search scored every visible product in Python, so a query on 100 000 products took 60× as
long as on 1 000 (BENCHMARKS.md #5). pg_trgm's GIN index lets PostgreSQL hand back only the
products sharing enough letter triples with each query word. SQLite, the embedded mode for
small shops, keeps scoring everything and gets no index.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_products_search_trgm"
# The function behind `search_text %> word`. pg_trgm declares it as cheap as `=` (cost 1), so
# with a LIMIT the planner reads products one by one, testing each (8 000 rows, 128 ms), rather
# than asking the index (10 ms). Cost 100 tells it the truth. Only the function's owner may
# change it: where that is not us, the search still works, just slower on big catalogues.
_COSTLY = "word_similarity_commutator_op(text, text)"


def _set_cost(cost: int) -> None:
    op.execute(
        f"""
        DO $$ BEGIN
            ALTER FUNCTION {_COSTLY} COST {cost};
        EXCEPTION WHEN insufficient_privilege THEN
            RAISE WARNING 'pg_trgm %> keeps its default cost: %', '{_COSTLY}', SQLERRM;
        END $$
        """
    )


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    # pg_trgm is a trusted extension (PostgreSQL ≥ 13): a database owner may create it.
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.create_index(
        INDEX,
        "products",
        ["search_text"],
        postgresql_using="gin",
        postgresql_ops={"search_text": "gin_trgm_ops"},
    )
    _set_cost(100)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    # The extension stays: other objects of the database may use it.
    op.drop_index(INDEX, table_name="products")
    _set_cost(1)
