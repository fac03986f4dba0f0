"""The initial registry: issuer, status lists, credentials, status history.

Revision ID: 0001
Revises: none
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the four tables and their indexes."""
    op.create_table(
        "registry",
        sa.Column("singleton", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("issuer_id", sa.String(32), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("singleton", name="pk_registry"),
        sa.CheckConstraint("singleton = 1", name="ck_registry_one_row"),
    )
    op.create_table(
        "status_lists",
        sa.Column("list_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("allocated", sa.Integer(), nullable=False),
        sa.Column("permutation_key", sa.LargeBinary(32), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("list_id", name="pk_status_lists"),
        sa.CheckConstraint("capacity > 0", name="ck_status_lists_capacity_positive"),
        sa.CheckConstraint(
            "allocated >= 0 AND allocated <= capacity", name="ck_status_lists_allocated_in_range"
        ),
    )
    op.create_table(
        "credentials",
        sa.Column("credential_id", sa.String(43), nullable=False),
        sa.Column("request_id", sa.String(128), nullable=False),
        sa.Column("benefit", sa.String(48), nullable=False),
        sa.Column("not_before", sa.BigInteger(), nullable=False),
        sa.Column("expires", sa.BigInteger(), nullable=False),
        sa.Column("list_id", sa.Integer(), nullable=False),
        sa.Column("status_index", sa.Integer(), nullable=False),
        sa.Column("token", sa.Text(), nullable=False),
        sa.Column("case_ref", sa.String(64), nullable=True),
        sa.Column("issued_by", sa.String(64), nullable=False),
        sa.Column("issued_at", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.SmallInteger(), nullable=False),
        sa.PrimaryKeyConstraint("credential_id", name="pk_credentials"),
        sa.UniqueConstraint("request_id", name="uq_credentials_request_id"),
        sa.UniqueConstraint("list_id", "status_index", name="uq_credentials_list_id_status_index"),
        sa.ForeignKeyConstraint(
            ["list_id"], ["status_lists.list_id"], name="fk_credentials_list_id"
        ),
        sa.CheckConstraint("expires > not_before", name="ck_credentials_validity"),
        sa.CheckConstraint("status_index >= 0", name="ck_credentials_index_non_negative"),
        sa.CheckConstraint("status IN (0, 1, 2)", name="ck_credentials_status_known"),
    )
    op.create_index(
        "ix_credentials_non_valid",
        "credentials",
        ["list_id", "status_index"],
        sqlite_where=sa.text("status != 0"),
        postgresql_where=sa.text("status != 0"),
    )
    op.create_table(
        "status_changes",
        sa.Column("change_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("credential_id", sa.String(43), nullable=False),
        sa.Column("old_status", sa.SmallInteger(), nullable=False),
        sa.Column("new_status", sa.SmallInteger(), nullable=False),
        sa.Column("reason", sa.String(200), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("changed_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("change_id", name="pk_status_changes"),
        sa.ForeignKeyConstraint(
            ["credential_id"],
            ["credentials.credential_id"],
            name="fk_status_changes_credential_id",
        ),
    )
    op.create_index("ix_status_changes_credential_id", "status_changes", ["credential_id"])


def downgrade() -> None:
    """Refused: dropping the registry would lose every credential it holds."""
    raise NotImplementedError("the registry is never downgraded; restore a backup instead")
