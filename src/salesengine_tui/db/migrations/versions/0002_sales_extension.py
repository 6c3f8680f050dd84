"""Sales extension (plan Phase 1): customer status and lead source with a backfill, pipelines
and stages, the stage link on estimates, stage history, interactions, the default pipelines.

Revision ID: 0002_sales_extension
Revises: 0001_operations_baseline
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002_sales_extension"
down_revision: str | None = "0001_operations_baseline"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UUID_DEFAULT = sa.text("gen_random_uuid()")
NOW = sa.text("now()")

customer_status = postgresql.ENUM(
    "lead", "active", "churned", name="customer_status", create_type=False
)
interaction_type = postgresql.ENUM(
    "call", "email", "sms", "meeting", name="interaction_type", create_type=False
)
interaction_direction = postgresql.ENUM(
    "inbound", "outbound", name="interaction_direction", create_type=False
)

# name, position, probability, won, lost, rotting days, follow-up after days
_RESIDENTIAL = [
    ("New", 0, 10, False, False, 7, None),
    ("Site Visit Scheduled", 1, 25, False, False, 10, None),
    ("Proposal Sent", 2, 50, False, False, 14, 3),
    ("Negotiation", 3, 75, False, False, 10, None),
    ("Won", 4, 100, True, False, None, None),
    ("Lost", 5, 0, False, True, None, None),
]
_COMMERCIAL = [
    ("Qualified", 0, 10, False, False, 14, None),
    ("Site Survey", 1, 25, False, False, 14, None),
    ("Proposal Sent", 2, 50, False, False, 21, 3),
    ("Negotiation", 3, 70, False, False, 21, None),
    ("Won", 4, 100, True, False, None, None),
    ("Lost", 5, 0, False, True, None, None),
]
DEFAULT_PIPELINES = [
    ("Residential Replacements", 0, _RESIDENTIAL),
    ("Commercial Contracts", 1, _COMMERCIAL),
]
# Existing operations estimates land on the board by their status.
STATUS_TO_STAGE = {
    "draft": "New",
    "sent": "Proposal Sent",
    "accepted": "Won",
    "declined": "Lost",
}


def upgrade() -> None:
    bind = op.get_bind()
    for enum in (customer_status, interaction_type, interaction_direction):
        enum.create(bind, checkfirst=True)

    # --- customers: sales columns, then the backfill from work history ---
    op.add_column(
        "customers",
        sa.Column("status", customer_status, server_default="lead", nullable=False),
    )
    op.add_column("customers", sa.Column("lead_source", sa.Text(), nullable=True))
    op.add_column("customers", sa.Column("owner_id", sa.Uuid(), nullable=True))
    op.add_column(
        "customers",
        sa.Column("email_opt_out", sa.Boolean(), server_default=sa.text("false"), nullable=False),
    )
    for col in ("opted_out_at", "email_suppressed_at", "last_interaction_at", "next_step_at"):
        op.add_column("customers", sa.Column(col, sa.DateTime(timezone=True), nullable=True))
    op.add_column("customers", sa.Column("next_step", sa.Text(), nullable=True))
    op.add_column(
        "customers", sa.Column("version", sa.Integer(), server_default="1", nullable=False)
    )
    op.create_check_constraint(op.f("ck_customers_version_positive"), "customers", "version >= 1")
    op.create_foreign_key(
        op.f("fk_customers_owner_id_users"),
        "customers",
        "users",
        ["owner_id"],
        ["id"],
        ondelete="SET NULL",
    )
    # Booked or completed jobs make a customer active; everyone else starts as a lead.
    op.execute(
        """
        UPDATE customers c SET status = 'active'
        WHERE EXISTS (
            SELECT 1 FROM tickets t
            WHERE t.customer_id = c.id AND t.status IN ('booked', 'in_progress', 'closed')
        )
        """
    )
    op.create_index(
        "ix_customers_inbox",
        "customers",
        [
            sa.literal_column("last_interaction_at ASC NULLS FIRST"),
            sa.literal_column("created_at DESC"),
        ],
        postgresql_where=sa.text("status = 'lead'"),
    )
    op.create_index("ix_customers_status_created", "customers", ["status", "created_at"])
    op.create_index("ix_customers_lead_source", "customers", ["lead_source"])
    op.create_index("ix_customers_postal_code", "customers", ["postal_code"])
    op.create_index("ix_customers_city", "customers", ["city"])
    op.create_index("ix_customers_next_step_at", "customers", ["next_step_at"])
    op.create_index(op.f("ix_customers_owner_id"), "customers", ["owner_id"])

    # --- pipelines and stages ---
    op.create_table(
        "deal_pipelines",
        sa.Column("id", sa.Uuid(), server_default=UUID_DEFAULT, nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), server_default="0", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deal_pipelines")),
        sa.UniqueConstraint("name", name=op.f("uq_deal_pipelines_name")),
    )
    op.create_table(
        "deal_stages",
        sa.Column("id", sa.Uuid(), server_default=UUID_DEFAULT, nullable=False),
        sa.Column("pipeline_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("probability", sa.Integer(), nullable=False),
        sa.Column("is_won", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("is_lost", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("rotting_days", sa.Integer(), nullable=True),
        sa.Column("follow_up_after_days", sa.Integer(), nullable=True),
        sa.CheckConstraint("NOT (is_won AND is_lost)", name=op.f("ck_deal_stages_won_or_lost")),
        sa.CheckConstraint(
            "follow_up_after_days IS NULL OR follow_up_after_days > 0",
            name=op.f("ck_deal_stages_follow_up_positive"),
        ),
        sa.CheckConstraint(
            "probability BETWEEN 0 AND 100", name=op.f("ck_deal_stages_probability_range")
        ),
        sa.CheckConstraint(
            "rotting_days IS NULL OR rotting_days > 0",
            name=op.f("ck_deal_stages_rotting_positive"),
        ),
        sa.ForeignKeyConstraint(
            ["pipeline_id"],
            ["deal_pipelines.id"],
            name=op.f("fk_deal_stages_pipeline_id_deal_pipelines"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deal_stages")),
        sa.UniqueConstraint("pipeline_id", "name", name="uq_deal_stages_pipeline_name"),
        sa.UniqueConstraint(
            "pipeline_id",
            "position",
            deferrable=True,
            initially="DEFERRED",
            name="uq_deal_stages_pipeline_position",
        ),
    )
    for pipeline, position, stages in DEFAULT_PIPELINES:
        bind.execute(
            sa.text("INSERT INTO deal_pipelines (name, position) VALUES (:n, :p)"),
            {"n": pipeline, "p": position},
        )
        for name, pos, prob, won, lost, rot, follow in stages:
            bind.execute(
                sa.text(
                    """
                    INSERT INTO deal_stages (pipeline_id, name, position, probability, is_won,
                        is_lost, rotting_days, follow_up_after_days)
                    SELECT id, :name, :pos, :prob, :won, :lost, :rot, :follow
                    FROM deal_pipelines WHERE name = :pipeline
                    """
                ),
                {
                    "pipeline": pipeline,
                    "name": name,
                    "pos": pos,
                    "prob": prob,
                    "won": won,
                    "lost": lost,
                    "rot": rot,
                    "follow": follow,
                },
            )

    # --- the stage link on estimates ---
    op.add_column("estimates", sa.Column("stage_id", sa.Uuid(), nullable=True))
    op.add_column(
        "estimates", sa.Column("stage_entered_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column("estimates", sa.Column("owner_id", sa.Uuid(), nullable=True))
    op.add_column("estimates", sa.Column("source_ticket_id", sa.Uuid(), nullable=True))
    op.add_column("estimates", sa.Column("lost_reason", sa.Text(), nullable=True))
    op.add_column(
        "estimates", sa.Column("version", sa.Integer(), server_default="1", nullable=False)
    )
    op.create_foreign_key(
        op.f("fk_estimates_stage_id_deal_stages"),
        "estimates",
        "deal_stages",
        ["stage_id"],
        ["id"],
        ondelete="RESTRICT",
    )
    op.create_foreign_key(
        op.f("fk_estimates_owner_id_users"),
        "estimates",
        "users",
        ["owner_id"],
        ["id"],
        ondelete="SET NULL",
    )
    op.create_foreign_key(
        op.f("fk_estimates_source_ticket_id_tickets"),
        "estimates",
        "tickets",
        ["source_ticket_id"],
        ["id"],
        ondelete="SET NULL",
    )
    op.create_unique_constraint(
        op.f("uq_estimates_source_ticket_id"), "estimates", ["source_ticket_id"]
    )
    for status, stage in STATUS_TO_STAGE.items():
        bind.execute(
            sa.text(
                """
                UPDATE estimates e SET stage_id = s.id, stage_entered_at = e.updated_at,
                       owner_id = e.created_by
                FROM deal_stages s JOIN deal_pipelines p ON p.id = s.pipeline_id
                WHERE p.name = 'Residential Replacements' AND s.name = :stage
                  AND e.status = CAST(:status AS estimate_status)
                """
            ),
            {"stage": stage, "status": status},
        )
    op.create_check_constraint(
        op.f("ck_estimates_stage_entry_with_stage"),
        "estimates",
        "(stage_id IS NULL) = (stage_entered_at IS NULL)",
    )
    op.create_check_constraint(op.f("ck_estimates_version_positive"), "estimates", "version >= 1")
    op.create_index("ix_estimates_board", "estimates", ["stage_id", "stage_entered_at", "id"])
    op.create_index("ix_estimates_stage_amount", "estimates", ["stage_id", "amount"])
    op.create_index(op.f("ix_estimates_owner_id"), "estimates", ["owner_id"])

    # --- stage history and interactions ---
    op.create_table(
        "estimate_stage_history",
        sa.Column("id", sa.Uuid(), server_default=UUID_DEFAULT, nullable=False),
        sa.Column("estimate_id", sa.Uuid(), nullable=False),
        sa.Column("from_stage_id", sa.Uuid(), nullable=True),
        sa.Column("to_stage_id", sa.Uuid(), nullable=True),
        sa.Column("from_stage_name", sa.Text(), nullable=True),
        sa.Column("to_stage_name", sa.Text(), nullable=False),
        sa.Column("moved_by", sa.Uuid(), nullable=True),
        sa.Column("moved_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.Column("lost_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["estimate_id"],
            ["estimates.id"],
            name=op.f("fk_estimate_stage_history_estimate_id_estimates"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["from_stage_id"],
            ["deal_stages.id"],
            name=op.f("fk_estimate_stage_history_from_stage_id_deal_stages"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["moved_by"],
            ["users.id"],
            name=op.f("fk_estimate_stage_history_moved_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["to_stage_id"],
            ["deal_stages.id"],
            name=op.f("fk_estimate_stage_history_to_stage_id_deal_stages"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_estimate_stage_history")),
    )
    op.create_index(
        "ix_stage_history_estimate_moved", "estimate_stage_history", ["estimate_id", "moved_at"]
    )
    op.create_index("ix_stage_history_moved_at", "estimate_stage_history", ["moved_at"])
    op.create_table(
        "customer_interactions",
        sa.Column("id", sa.Uuid(), server_default=UUID_DEFAULT, nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("type", interaction_type, nullable=False),
        sa.Column("direction", interaction_direction, nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("created_by", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("estimate_id", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_customer_interactions_created_by_users"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_customer_interactions_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["estimate_id"],
            ["estimates.id"],
            name=op.f("fk_customer_interactions_estimate_id_estimates"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_interactions")),
    )
    op.create_index("ix_interactions_created_at", "customer_interactions", ["created_at"])
    op.create_index(
        "ix_interactions_customer_created", "customer_interactions", ["customer_id", "created_at"]
    )

    # The author of every automated entry (nurture emails, upsell opportunities).
    op.execute(
        "INSERT INTO users (login, name, role) VALUES ('system', 'SalesEngine automation', "
        "'system') ON CONFLICT (login) DO NOTHING"
    )


def downgrade() -> None:
    op.drop_table("customer_interactions")
    op.drop_table("estimate_stage_history")
    op.drop_index(op.f("ix_estimates_owner_id"), table_name="estimates")
    op.drop_index("ix_estimates_stage_amount", table_name="estimates")
    op.drop_index("ix_estimates_board", table_name="estimates")
    op.drop_constraint(op.f("ck_estimates_version_positive"), "estimates", type_="check")
    op.drop_constraint(op.f("ck_estimates_stage_entry_with_stage"), "estimates", type_="check")
    op.drop_constraint(op.f("uq_estimates_source_ticket_id"), "estimates", type_="unique")
    for fk in (
        "fk_estimates_source_ticket_id_tickets",
        "fk_estimates_owner_id_users",
        "fk_estimates_stage_id_deal_stages",
    ):
        op.drop_constraint(op.f(fk), "estimates", type_="foreignkey")
    for col in (
        "version",
        "lost_reason",
        "source_ticket_id",
        "owner_id",
        "stage_entered_at",
        "stage_id",
    ):
        op.drop_column("estimates", col)
    op.drop_table("deal_stages")
    op.drop_table("deal_pipelines")
    for index in (
        "ix_customers_owner_id",
        "ix_customers_next_step_at",
        "ix_customers_city",
        "ix_customers_postal_code",
        "ix_customers_lead_source",
        "ix_customers_status_created",
        "ix_customers_inbox",
    ):
        op.drop_index(index, table_name="customers")
    op.drop_constraint(op.f("fk_customers_owner_id_users"), "customers", type_="foreignkey")
    op.drop_constraint(op.f("ck_customers_version_positive"), "customers", type_="check")
    for col in (
        "version",
        "next_step",
        "next_step_at",
        "last_interaction_at",
        "email_suppressed_at",
        "opted_out_at",
        "email_opt_out",
        "owner_id",
        "lead_source",
        "status",
    ):
        op.drop_column("customers", col)
    op.execute("DELETE FROM users WHERE login = 'system' AND role = 'system'")
    bind = op.get_bind()
    for enum in (interaction_direction, interaction_type, customer_status):
        enum.drop(bind, checkfirst=True)
