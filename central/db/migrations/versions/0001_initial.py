"""initial schema: inventory, inbound, devices, ingest

Revision ID: 0001
Revises: 
Create Date: 2026-11-26 00:05:04.317502
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    
    op.create_table('dead_letters',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('origin', sa.String(length=16), nullable=False),
    sa.Column('edge_id', sa.String(length=64), nullable=True),
    sa.Column('topic', sa.String(length=256), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dead_letters'))
    )
    op.create_table('edge_cursors',
    sa.Column('edge_id', sa.String(length=64), nullable=False),
    sa.Column('epoch', sa.BigInteger(), nullable=False),
    sa.Column('last_seq', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('edge_id', 'epoch', name=op.f('pk_edge_cursors'))
    )
    op.create_table('sites',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sites')),
    sa.UniqueConstraint('code', name=op.f('uq_sites_code'))
    )
    op.create_table('skus',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=256), nullable=False),
    sa.Column('gtin', sa.String(length=14), nullable=True),
    sa.Column('unit_weight_kg', sa.Numeric(precision=12, scale=3), nullable=False),
    sa.Column('length_mm', sa.Integer(), nullable=True),
    sa.Column('width_mm', sa.Integer(), nullable=True),
    sa.Column('height_mm', sa.Integer(), nullable=True),
    sa.Column('hs_code', sa.String(length=16), nullable=True),
    sa.Column('origin_country', sa.String(length=2), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_skus')),
    sa.UniqueConstraint('code', name=op.f('uq_skus_code')),
    sa.UniqueConstraint('gtin', name=op.f('uq_skus_gtin'))
    )
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('password_hash', sa.String(length=256), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('username', name=op.f('uq_users_username'))
    )
    op.create_table('lots',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sku_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('expiry', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['sku_id'], ['skus.id'], name=op.f('fk_lots_sku_id_skus')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lots')),
    sa.UniqueConstraint('sku_id', 'code', name=op.f('uq_lots_sku_id'))
    )
    op.create_table('zones',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_zones_site_id_sites')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_zones')),
    sa.UniqueConstraint('site_id', 'code', name=op.f('uq_zones_site_id'))
    )
    op.create_table('locations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('zone_id', sa.Integer(), nullable=True),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('aisle', sa.String(length=16), nullable=True),
    sa.Column('bay', sa.String(length=16), nullable=True),
    sa.Column('level', sa.String(length=16), nullable=True),
    sa.Column('slot', sa.String(length=16), nullable=True),
    sa.Column('x', sa.Float(), nullable=True),
    sa.Column('y', sa.Float(), nullable=True),
    sa.Column('capacity', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_locations_site_id_sites')),
    sa.ForeignKeyConstraint(['zone_id'], ['zones.id'], name=op.f('fk_locations_zone_id_zones')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_locations')),
    sa.UniqueConstraint('site_id', 'code', name=op.f('uq_locations_site_id'))
    )
    op.create_table('asns',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=64), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('supplier', sa.String(length=128), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('dock_location_id', sa.Integer(), nullable=True),
    sa.Column('pallet_tare_kg', sa.Numeric(precision=12, scale=3), nullable=False),
    sa.Column('expected_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('arrived_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['dock_location_id'], ['locations.id'], name=op.f('fk_asns_dock_location_id_locations')),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_asns_site_id_sites')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_asns')),
    sa.UniqueConstraint('number', name=op.f('uq_asns_number'))
    )
    with op.batch_alter_table('asns', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_asns_status'), ['status'], unique=False)

    op.create_table('devices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('device_id', sa.String(length=64), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('location_id', sa.Integer(), nullable=True),
    sa.Column('online', sa.Boolean(), nullable=True),
    sa.Column('last_seen', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['location_id'], ['locations.id'], name=op.f('fk_devices_location_id_locations')),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_devices_site_id_sites')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_devices')),
    sa.UniqueConstraint('device_id', name=op.f('uq_devices_device_id'))
    )
    op.create_table('stock',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('location_id', sa.Integer(), nullable=False),
    sa.Column('sku_id', sa.Integer(), nullable=False),
    sa.Column('lot_id', sa.Integer(), nullable=False),
    sa.Column('qty', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['location_id'], ['locations.id'], name=op.f('fk_stock_location_id_locations')),
    sa.ForeignKeyConstraint(['lot_id'], ['lots.id'], name=op.f('fk_stock_lot_id_lots')),
    sa.ForeignKeyConstraint(['sku_id'], ['skus.id'], name=op.f('fk_stock_sku_id_skus')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stock')),
    sa.UniqueConstraint('location_id', 'sku_id', 'lot_id', name=op.f('uq_stock_location_id'))
    )
    op.create_table('stock_moves',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('ts', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sku_id', sa.Integer(), nullable=False),
    sa.Column('lot_id', sa.Integer(), nullable=False),
    sa.Column('qty', sa.Integer(), nullable=False),
    sa.Column('from_location_id', sa.Integer(), nullable=False),
    sa.Column('to_location_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=32), nullable=False),
    sa.Column('ref_type', sa.String(length=32), nullable=True),
    sa.Column('ref_id', sa.String(length=64), nullable=True),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.CheckConstraint('from_location_id <> to_location_id', name=op.f('ck_stock_moves_distinct_locations')),
    sa.CheckConstraint('qty > 0', name=op.f('ck_stock_moves_qty_positive')),
    sa.ForeignKeyConstraint(['from_location_id'], ['locations.id'], name=op.f('fk_stock_moves_from_location_id_locations')),
    sa.ForeignKeyConstraint(['lot_id'], ['lots.id'], name=op.f('fk_stock_moves_lot_id_lots')),
    sa.ForeignKeyConstraint(['sku_id'], ['skus.id'], name=op.f('fk_stock_moves_sku_id_skus')),
    sa.ForeignKeyConstraint(['to_location_id'], ['locations.id'], name=op.f('fk_stock_moves_to_location_id_locations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stock_moves'))
    )
    with op.batch_alter_table('stock_moves', schema=None) as batch_op:
        batch_op.create_index('ix_stock_moves_ref', ['ref_type', 'ref_id'], unique=False)

    op.create_table('asn_expected_tags',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('asn_id', sa.Integer(), nullable=False),
    sa.Column('epc', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['asn_id'], ['asns.id'], name=op.f('fk_asn_expected_tags_asn_id_asns'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_asn_expected_tags')),
    sa.UniqueConstraint('asn_id', 'epc', name=op.f('uq_asn_expected_tags_asn_id'))
    )
    op.create_table('asn_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('asn_id', sa.Integer(), nullable=False),
    sa.Column('sku_id', sa.Integer(), nullable=False),
    sa.Column('lot_code', sa.String(length=64), nullable=False),
    sa.Column('expiry', sa.Date(), nullable=True),
    sa.Column('qty_expected', sa.Integer(), nullable=False),
    sa.Column('qty_received', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['asn_id'], ['asns.id'], name=op.f('fk_asn_lines_asn_id_asns'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['sku_id'], ['skus.id'], name=op.f('fk_asn_lines_sku_id_skus')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_asn_lines'))
    )
    with op.batch_alter_table('asn_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_asn_lines_asn_id'), ['asn_id'], unique=False)

    op.create_table('discrepancies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('asn_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('raised_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('resolved_by', sa.String(length=64), nullable=True),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolution', sa.String(length=32), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['asn_id'], ['asns.id'], name=op.f('fk_discrepancies_asn_id_asns')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_discrepancies'))
    )
    with op.batch_alter_table('discrepancies', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_discrepancies_asn_id'), ['asn_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_discrepancies_status'), ['status'], unique=False)

    op.create_table('gate_passes',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('gate_id', sa.String(length=64), nullable=False),
    sa.Column('asn_id', sa.Integer(), nullable=True),
    sa.Column('direction', sa.String(length=8), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('epcs', sa.JSON(), nullable=False),
    sa.Column('edge_id', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['asn_id'], ['asns.id'], name=op.f('fk_gate_passes_asn_id_asns')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_gate_passes'))
    )
    with op.batch_alter_table('gate_passes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_gate_passes_asn_id'), ['asn_id'], unique=False)

    op.create_table('weighings',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('scale_id', sa.String(length=64), nullable=False),
    sa.Column('asn_id', sa.Integer(), nullable=True),
    sa.Column('kg', sa.Numeric(precision=12, scale=3), nullable=False),
    sa.Column('settled_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('edge_id', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['asn_id'], ['asns.id'], name=op.f('fk_weighings_asn_id_asns')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_weighings'))
    )
    with op.batch_alter_table('weighings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_weighings_asn_id'), ['asn_id'], unique=False)

    


def downgrade() -> None:
    
    with op.batch_alter_table('weighings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_weighings_asn_id'))

    op.drop_table('weighings')
    with op.batch_alter_table('gate_passes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_gate_passes_asn_id'))

    op.drop_table('gate_passes')
    with op.batch_alter_table('discrepancies', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_discrepancies_status'))
        batch_op.drop_index(batch_op.f('ix_discrepancies_asn_id'))

    op.drop_table('discrepancies')
    with op.batch_alter_table('asn_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_asn_lines_asn_id'))

    op.drop_table('asn_lines')
    op.drop_table('asn_expected_tags')
    with op.batch_alter_table('stock_moves', schema=None) as batch_op:
        batch_op.drop_index('ix_stock_moves_ref')

    op.drop_table('stock_moves')
    op.drop_table('stock')
    op.drop_table('devices')
    with op.batch_alter_table('asns', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_asns_status'))

    op.drop_table('asns')
    op.drop_table('locations')
    op.drop_table('zones')
    op.drop_table('lots')
    op.drop_table('users')
    op.drop_table('skus')
    op.drop_table('sites')
    op.drop_table('edge_cursors')
    op.drop_table('dead_letters')
    
