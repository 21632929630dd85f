"""Sortition draws and councils: sortition_draw, sortition_council, sortition_council_bundle,
sortition_job (service.models_draws).

Revision ID: v0003
Revises: v0002
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "v0003"
down_revision: str | None = "v0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sortition_draw",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organiser_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("algorithm", sa.String(length=20), nullable=False),
        sa.Column("panels", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=500), nullable=False),
        sa.Column("fallback", sa.String(length=500), nullable=False),
        sa.Column("households", sa.String(length=500), nullable=False),
        sa.Column("pool_size", sa.Integer(), nullable=False),
        sa.Column("pool_json", sa.Text(), nullable=False),
        sa.Column("quotas_json", sa.Text(), nullable=False),
        sa.Column("mapping_json", sa.Text(), nullable=False),
        sa.Column("bundle_json", sa.Text(), nullable=True),
        sa.Column("commitment", sa.String(length=64), nullable=True),
        sa.Column("seed", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("committed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revealed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["organiser_id"], ["organiser.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_sortition_draw_organiser_id", "sortition_draw", ["organiser_id"])
    op.create_table(
        "sortition_council",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organiser_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("state_json", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["organiser_id"], ["organiser.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_sortition_council_organiser_id", "sortition_council", ["organiser_id"])
    op.create_table(
        "sortition_council_bundle",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("council_id", sa.Integer(), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("bundle_json", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["council_id"], ["sortition_council.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("council_id", "round", name="uq_council_round"),
    )
    op.create_index(
        "ix_sortition_council_bundle_council_id", "sortition_council_bundle", ["council_id"]
    )
    op.create_table(
        "sortition_job",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("draw_id", sa.Integer(), nullable=True),
        sa.Column("council_id", sa.Integer(), nullable=True),
        sa.Column("payload_json", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("progress", sa.Float(), nullable=False),
        sa.Column("message", sa.String(length=500), nullable=False),
        sa.Column("error_code", sa.String(length=50), nullable=True),
        sa.Column("owner", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["draw_id"], ["sortition_draw.id"]),
        sa.ForeignKeyConstraint(["council_id"], ["sortition_council.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_sortition_job_draw_id", "sortition_job", ["draw_id"])
    op.create_index("ix_sortition_job_council_id", "sortition_job", ["council_id"])


def downgrade() -> None:
    op.drop_index("ix_sortition_job_council_id", table_name="sortition_job")
    op.drop_index("ix_sortition_job_draw_id", table_name="sortition_job")
    op.drop_table("sortition_job")
    op.drop_index("ix_sortition_council_bundle_council_id", table_name="sortition_council_bundle")
    op.drop_table("sortition_council_bundle")
    op.drop_index("ix_sortition_council_organiser_id", table_name="sortition_council")
    op.drop_table("sortition_council")
    op.drop_index("ix_sortition_draw_organiser_id", table_name="sortition_draw")
    op.drop_table("sortition_draw")
