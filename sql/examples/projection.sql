-- projection.sql -- a projection that follows the store from its
-- checkpoint: the read model and the checkpoint move in one transaction,
-- so every event is counted exactly once, whatever stops the loop.
--   sqlite3 :memory: -cmd '.load ./eventstore' < sql/examples/projection.sql
.read sql/examples/setup.sql

-- The read model: open tasks per tenant.
CREATE TABLE open_tasks(tenant_id TEXT PRIMARY KEY, n INTEGER NOT NULL);

-- One batch (projection_batch.sql): at most 3 events after the
-- checkpoint, applied and checkpointed in one transaction.  Run it as
-- often as you like: each run takes the next events, or none.
.print -- batch 1
.read sql/examples/projection_batch.sql

.print -- batch 2: the rest
.read sql/examples/projection_batch.sql

.print -- caught up: es_wait returns at once with the head, or waits for more
SELECT es_wait(es_checkpoint('open-tasks'), 0);
