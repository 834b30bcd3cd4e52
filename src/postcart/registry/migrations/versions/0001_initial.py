"""Initial registry schema: the tables of postcart.registry.schema and the audit tables.

Revision ID: 0001
Revises:
Create Date: 2026-11-24

Generated once from ``postcart.registry.models`` (alembic autogenerate) and frozen here: later
changes to ``schema.py`` need a new revision (``tests/registry/test_migrations.py`` checks that
the migrated database matches the models).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "centres",
        sa.Column("centre_id", sa.Text(), nullable=False),
        sa.Column("centre_name", sa.Text(), nullable=True),
        sa.Column("country", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("centre_id", name=op.f("pk_centres")),
    )
    op.create_table(
        "extract",
        sa.Column("extract_id", sa.Text(), nullable=False),
        sa.Column("data_cutoff", sa.Date(), nullable=False),
        sa.Column("data_cutoff_precision", sa.String(length=5), nullable=False),
        sa.Column("source", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("extract_id", name=op.f("pk_extract")),
    )
    op.create_table(
        "import_batches",
        sa.Column("batch_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("source_files", sa.Text(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("extract_id", sa.Text(), nullable=True),
        sa.Column("data_cutoff", sa.Date(), nullable=True),
        sa.Column("n_inserted", sa.Integer(), nullable=False),
        sa.Column("n_updated", sa.Integer(), nullable=False),
        sa.Column("n_unchanged", sa.Integer(), nullable=False),
        sa.Column("n_absent", sa.Integer(), nullable=False),
        sa.Column("n_deleted", sa.Integer(), nullable=False),
        sa.Column("n_warnings", sa.Integer(), nullable=False),
        sa.Column("postcart_version", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("batch_id", name=op.f("pk_import_batches")),
    )
    op.create_table(
        "audit_log",
        sa.Column("audit_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("table_name", sa.String(length=64), nullable=False),
        sa.Column("row_key", sa.Text(), nullable=False),
        sa.Column("action", sa.String(length=8), nullable=False),
        sa.Column("field", sa.String(length=64), nullable=True),
        sa.Column("old_value", sa.Text(), nullable=True),
        sa.Column("new_value", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["import_batches.batch_id"], name=op.f("fk_audit_log_batch_id_import_batches")
        ),
        sa.PrimaryKeyConstraint("audit_id", name=op.f("pk_audit_log")),
    )
    op.create_table(
        "patients",
        sa.Column("patient_id", sa.Text(), nullable=False),
        sa.Column("centre_id", sa.Text(), nullable=False),
        sa.Column("sex", sa.String(length=64), nullable=False),
        sa.Column("birth_year", sa.Integer(), nullable=True),
        sa.Column("age_at_decision", sa.Double(), nullable=True),
        sa.Column("registration_date", sa.Date(), nullable=False),
        sa.Column("registration_date_precision", sa.String(length=5), nullable=False),
        sa.Column("decision_date", sa.Date(), nullable=False),
        sa.Column("decision_date_precision", sa.String(length=5), nullable=False),
        sa.Column("indication", sa.String(length=64), nullable=False),
        sa.Column("histology", sa.String(length=64), nullable=False),
        sa.Column("prior_lines", sa.Integer(), nullable=False),
        sa.Column("prior_asct", sa.Boolean(), nullable=False),
        sa.Column("prior_allo", sa.Boolean(), nullable=False),
        sa.Column("prior_line_types", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["centre_id"], ["centres.centre_id"], name=op.f("fk_patients_centre_id_centres")
        ),
        sa.PrimaryKeyConstraint("patient_id", name=op.f("pk_patients")),
    )
    op.create_table(
        "assessments",
        sa.Column("patient_id", sa.Text(), nullable=False),
        sa.Column("visit", sa.String(length=64), nullable=False),
        sa.Column("planned_date", sa.Date(), nullable=True),
        sa.Column("planned_date_precision", sa.String(length=5), nullable=True),
        sa.Column("assessment_date", sa.Date(), nullable=False),
        sa.Column("assessment_date_precision", sa.String(length=5), nullable=False),
        sa.Column("response", sa.String(length=64), nullable=False),
        sa.Column("modality", sa.String(length=64), nullable=True),
        sa.Column("deauville", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.patient_id"], name=op.f("fk_assessments_patient_id_patients")
        ),
        sa.PrimaryKeyConstraint("patient_id", "visit", "assessment_date", name=op.f("pk_assessments")),
    )
    op.create_table(
        "bridging",
        sa.Column("patient_id", sa.Text(), nullable=False),
        sa.Column("bridging_type", sa.String(length=64), nullable=False),
        sa.Column("regimen", sa.Text(), nullable=True),
        sa.Column("start_date", sa.Date(), nullable=True),
        sa.Column("start_date_precision", sa.String(length=5), nullable=True),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.patient_id"], name=op.f("fk_bridging_patient_id_patients")
        ),
        sa.PrimaryKeyConstraint("patient_id", name=op.f("pk_bridging")),
    )
    op.create_table(
        "characteristics",
        sa.Column("patient_id", sa.Text(), nullable=False),
        sa.Column("timepoint", sa.String(length=64), nullable=False),
        sa.Column("assessment_date", sa.Date(), nullable=True),
        sa.Column("assessment_date_precision", sa.String(length=5), nullable=True),
        sa.Column("ecog", sa.Integer(), nullable=True),
        sa.Column("ann_arbor_stage", sa.Integer(), nullable=True),
        sa.Column("extranodal_sites", sa.Integer(), nullable=True),
        sa.Column("ldh", sa.Double(), nullable=True),
        sa.Column("ldh_uln", sa.Double(), nullable=True),
        sa.Column("albumin", sa.Double(), nullable=True),
        sa.Column("albumin_unit", sa.String(length=64), nullable=True),
        sa.Column("crp", sa.Double(), nullable=True),
        sa.Column("crp_unit", sa.String(length=64), nullable=True),
        sa.Column("ferritin", sa.Double(), nullable=True),
        sa.Column("ferritin_unit", sa.String(length=64), nullable=True),
        sa.Column("disease_status", sa.String(length=64), nullable=True),
        sa.Column("pet_performed", sa.Boolean(), nullable=True),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.patient_id"], name=op.f("fk_characteristics_patient_id_patients")
        ),
        sa.PrimaryKeyConstraint("patient_id", "timepoint", name=op.f("pk_characteristics")),
    )
    op.create_table(
        "disease_events",
        sa.Column("patient_id", sa.Text(), nullable=False),
        sa.Column("event_date", sa.Date(), nullable=False),
        sa.Column("event_date_precision", sa.String(length=5), nullable=False),
        sa.Column("event_type", sa.String(length=64), nullable=False),
        sa.Column("biopsy", sa.Boolean(), nullable=True),
        sa.Column("next_treatment", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.patient_id"], name=op.f("fk_disease_events_patient_id_patients")
        ),
        sa.PrimaryKeyConstraint("patient_id", "event_date", name=op.f("pk_disease_events")),
    )
    op.create_table(
        "infusions",
        sa.Column("patient_id", sa.Text(), nullable=False),
        sa.Column("product", sa.String(length=64), nullable=False),
        sa.Column("lymphodepletion_regimen", sa.String(length=64), nullable=True),
        sa.Column("lymphodepletion_date", sa.Date(), nullable=True),
        sa.Column("lymphodepletion_date_precision", sa.String(length=5), nullable=True),
        sa.Column("infusion_date", sa.Date(), nullable=False),
        sa.Column("infusion_date_precision", sa.String(length=5), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.patient_id"], name=op.f("fk_infusions_patient_id_patients")
        ),
        sa.PrimaryKeyConstraint("patient_id", name=op.f("pk_infusions")),
    )
    op.create_table(
        "toxicities",
        sa.Column("patient_id", sa.Text(), nullable=False),
        sa.Column("crs_grade", sa.Integer(), nullable=True),
        sa.Column("icans_grade", sa.Integer(), nullable=True),
        sa.Column("cytopenia_d30_grade", sa.Integer(), nullable=True),
        sa.Column("cytopenia_d90_grade", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.patient_id"], name=op.f("fk_toxicities_patient_id_patients")
        ),
        sa.PrimaryKeyConstraint("patient_id", name=op.f("pk_toxicities")),
    )
    op.create_table(
        "treatment_lines",
        sa.Column("patient_id", sa.Text(), nullable=False),
        sa.Column("line_number", sa.Integer(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("start_date_precision", sa.String(length=5), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("end_date_precision", sa.String(length=5), nullable=True),
        sa.Column("regimen", sa.Text(), nullable=True),
        sa.Column("components", sa.Text(), nullable=False),
        sa.Column("radiotherapy_localized", sa.Boolean(), nullable=True),
        sa.Column("in_trial", sa.Boolean(), nullable=True),
        sa.Column("best_response", sa.String(length=64), nullable=True),
        sa.Column("best_response_date", sa.Date(), nullable=True),
        sa.Column("best_response_date_precision", sa.String(length=5), nullable=True),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.patient_id"], name=op.f("fk_treatment_lines_patient_id_patients")
        ),
        sa.PrimaryKeyConstraint("patient_id", "line_number", name=op.f("pk_treatment_lines")),
    )
    op.create_table(
        "vital_status",
        sa.Column("patient_id", sa.Text(), nullable=False),
        sa.Column("last_contact_date", sa.Date(), nullable=False),
        sa.Column("last_contact_date_precision", sa.String(length=5), nullable=False),
        sa.Column("death_date", sa.Date(), nullable=True),
        sa.Column("death_date_precision", sa.String(length=5), nullable=True),
        sa.Column("death_cause", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.patient_id"], name=op.f("fk_vital_status_patient_id_patients")
        ),
        sa.PrimaryKeyConstraint("patient_id", name=op.f("pk_vital_status")),
    )


def downgrade() -> None:
    op.drop_table("vital_status")
    op.drop_table("treatment_lines")
    op.drop_table("toxicities")
    op.drop_table("infusions")
    op.drop_table("disease_events")
    op.drop_table("characteristics")
    op.drop_table("bridging")
    op.drop_table("assessments")
    op.drop_table("patients")
    op.drop_table("audit_log")
    op.drop_table("import_batches")
    op.drop_table("extract")
    op.drop_table("centres")
