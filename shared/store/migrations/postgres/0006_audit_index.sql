-- The audit's count of the items in force per node (`audit_cached`) reads this index, not the
-- `items` table, whose rows hold each item's whole JSON.
CREATE INDEX items_by_status ON items (node, status);
