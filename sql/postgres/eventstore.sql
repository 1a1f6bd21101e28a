-- eventstore.sql -- the eventstore contract (../../../shared API.md, the
-- project's docs/reference.md) on PostgreSQL 15 and later.
--
-- Two ways in (docs/postgres.md):
--   CREATE EXTENSION eventstore [SCHEMA s];     after `make pg-install`
--   psql -v ON_ERROR_STOP=1 -c 'SET search_path = s' -f eventstore.sql
-- Either way every object is created in the current schema, and the
-- functions that write run as the owner with search_path fixed to it.
--
-- THE DESIGN: positions in commit order.  Every append locks the one row
-- of es_position (SELECT ... FOR UPDATE) before it reads anything, takes
-- the next global positions from it, and writes the new high-water mark
-- back before its transaction commits.  The row lock is held until the
-- appending transaction ends, so appends to the store are serialized:
-- the positions one transaction takes are visible only after every lower
-- position is, on the primary and on every standby (which replays commits
-- in the primary's order).  A reader that polls
--   SELECT ... FROM event_all WHERE global_position > :checkpoint
-- therefore never sees position n+1 before n, and can never pass over an
-- event that commits later, which is how sequence-based stores lose
-- events.  A rolled-back append rolls the counter back with it: no gaps.
-- In REPEATABLE READ or SERIALIZABLE, an append that meets another one's
-- committed update of the counter fails with SQLSTATE 40001, the usual
-- serialization failure to retry.  The cost: one appending transaction at
-- a time per store, held until it ends, so keep such transactions short.
--
-- Errors: a conflict is SQLSTATE ES409 (es_append's version conflict and
-- es_checkpoint_set's failed compare-and-set, nothing else); an event id
-- stored with other content 23505; every other bad input 22023.
-- Messages are those of the SQLite extension.

-- ---------------------------------------------------------------- tables

CREATE TABLE es_meta (
  key text PRIMARY KEY,
  value text NOT NULL
);
INSERT INTO es_meta VALUES ('schema_version', '1'), ('version', '1.0.0');

-- The high-water mark, and the lock every append takes (THE DESIGN).
CREATE TABLE es_position (
  id int PRIMARY KEY CHECK (id = 1),
  global_position bigint NOT NULL,
  stored_at timestamptz
);
INSERT INTO es_position VALUES (1, 0, NULL);

CREATE TABLE es_streams (
  stream_key bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  aggregate_id text NOT NULL,
  aggregate_type text NOT NULL,
  stream_id text NOT NULL UNIQUE,
  UNIQUE (aggregate_id, aggregate_type)
);
CREATE INDEX es_streams_aggregate_type ON es_streams (aggregate_type);

CREATE TABLE es_events (
  global_position bigint PRIMARY KEY,
  stream_key bigint NOT NULL,
  stream_position bigint NOT NULL,
  event_id uuid NOT NULL UNIQUE,
  event_type text NOT NULL,
  event_version bigint NOT NULL,
  tenant_id text,
  actor_id text,
  correlation_id uuid,
  causation_id uuid,
  occurred_at timestamptz NOT NULL,
  stored_at timestamptz NOT NULL,
  data jsonb NOT NULL,
  metadata jsonb NOT NULL,
  UNIQUE (stream_key, stream_position)
);
-- Each ends in global_position: equal keys are read in global order.
CREATE INDEX es_events_event_type ON es_events (event_type, global_position);
CREATE INDEX es_events_tenant ON es_events (tenant_id, global_position)
  WHERE tenant_id IS NOT NULL;
CREATE INDEX es_events_occurred_at ON es_events (occurred_at);
CREATE INDEX es_events_stored_at ON es_events (stored_at);

-- Consumers' checkpoints and aggregate snapshots: the two tables that
-- change, through the functions below only (es_refuse_foreign_change).
CREATE TABLE es_consumers (
  name text PRIMARY KEY,
  position bigint NOT NULL,
  updated_at timestamptz NOT NULL
);
CREATE TABLE es_snapshots (
  stream_key bigint NOT NULL,
  schema_version bigint NOT NULL,
  version bigint NOT NULL,
  state jsonb NOT NULL,
  stored_at timestamptz NOT NULL,
  PRIMARY KEY (stream_key, schema_version)
);

-- Immutability: stored events and the bookkeeping beside them cannot be
-- changed by ordinary SQL.  (The row triggers' WHEN clause is the check,
-- evaluated without calling a function: an append updates the counter row
-- every time, and a PL/pgSQL trigger call there cost it measurably.)  eventstore's own functions set the
-- transaction-local flag eventstore.internal where they write bookkeeping
-- (the counter, es_clear); an application role cannot write the tables
-- at all (it has no privilege on them).
CREATE FUNCTION es_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF current_setting('eventstore.internal', true) = 'on' THEN
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
  END IF;
  RAISE EXCEPTION 'eventstore: % is append-only: stored % cannot be %',
    TG_TABLE_NAME, TG_ARGV[0],
    CASE TG_OP WHEN 'UPDATE' THEN 'updated' WHEN 'DELETE' THEN 'deleted'
               ELSE 'truncated' END
    USING ERRCODE = '42501';
END $$;

-- The tables that change, but only through eventstore's functions.
CREATE FUNCTION es_refuse_foreign_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF current_setting('eventstore.internal', true) = 'on' THEN
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
  END IF;
  RAISE EXCEPTION 'eventstore: % is changed only by %', TG_TABLE_NAME,
    TG_ARGV[0] USING ERRCODE = '42501';
END $$;

CREATE TRIGGER es_consumers_no_change BEFORE UPDATE OR DELETE ON es_consumers
  FOR EACH ROW
  WHEN (current_setting('eventstore.internal', true) IS DISTINCT FROM 'on')
  EXECUTE FUNCTION
  es_refuse_foreign_change('es_checkpoint_set() and es_clear()');
CREATE TRIGGER es_consumers_no_truncate BEFORE TRUNCATE ON es_consumers
  FOR EACH STATEMENT EXECUTE FUNCTION
  es_refuse_foreign_change('es_checkpoint_set() and es_clear()');
CREATE TRIGGER es_snapshots_no_change BEFORE UPDATE OR DELETE ON es_snapshots
  FOR EACH ROW
  WHEN (current_setting('eventstore.internal', true) IS DISTINCT FROM 'on')
  EXECUTE FUNCTION es_refuse_foreign_change(
  'es_snapshot_save(), es_snapshot_delete() and es_clear()');
CREATE TRIGGER es_snapshots_no_truncate BEFORE TRUNCATE ON es_snapshots
  FOR EACH STATEMENT EXECUTE FUNCTION es_refuse_foreign_change(
  'es_snapshot_save(), es_snapshot_delete() and es_clear()');

CREATE TRIGGER es_events_no_change BEFORE UPDATE OR DELETE ON es_events
  FOR EACH ROW
  WHEN (current_setting('eventstore.internal', true) IS DISTINCT FROM 'on')
  EXECUTE FUNCTION es_refuse_change('events');
CREATE TRIGGER es_events_no_truncate BEFORE TRUNCATE ON es_events
  FOR EACH STATEMENT EXECUTE FUNCTION es_refuse_change('events');
CREATE TRIGGER es_streams_no_change BEFORE UPDATE OR DELETE ON es_streams
  FOR EACH ROW
  WHEN (current_setting('eventstore.internal', true) IS DISTINCT FROM 'on')
  EXECUTE FUNCTION es_refuse_change('streams');
CREATE TRIGGER es_streams_no_truncate BEFORE TRUNCATE ON es_streams
  FOR EACH STATEMENT EXECUTE FUNCTION es_refuse_change('streams');
CREATE TRIGGER es_meta_no_change BEFORE UPDATE OR DELETE ON es_meta
  FOR EACH ROW
  WHEN (current_setting('eventstore.internal', true) IS DISTINCT FROM 'on')
  EXECUTE FUNCTION es_refuse_change('metadata');
CREATE TRIGGER es_meta_no_truncate BEFORE TRUNCATE ON es_meta
  FOR EACH STATEMENT EXECUTE FUNCTION es_refuse_change('metadata');
CREATE TRIGGER es_position_no_change BEFORE UPDATE OR DELETE ON es_position
  FOR EACH ROW
  WHEN (current_setting('eventstore.internal', true) IS DISTINCT FROM 'on')
  EXECUTE FUNCTION es_refuse_change('positions');
CREATE TRIGGER es_position_no_truncate BEFORE TRUNCATE ON es_position
  FOR EACH STATEMENT EXECUTE FUNCTION es_refuse_change('positions');

-- ----------------------------------------------------------------- views

CREATE VIEW event_all AS
  SELECT e.global_position, s.stream_id, e.stream_position, s.aggregate_id,
         s.aggregate_type, e.stream_position AS aggregate_version, e.event_id,
         e.event_type, e.event_version, e.tenant_id, e.actor_id,
         e.correlation_id, e.causation_id, e.occurred_at, e.stored_at,
         e.data, e.metadata
  FROM es_events e JOIN es_streams s ON s.stream_key = e.stream_key;

-- The WHERE aggregate_id = ... AND aggregate_type = ... form of
-- event_stream; event_stream(stream_id) below is the function form.
CREATE VIEW event_stream AS SELECT * FROM event_all;

-- Every consumer's checkpoint and its lag behind the newest event.
CREATE VIEW es_checkpoints AS
  SELECT c.name, c.position, c.updated_at,
         (SELECT p.global_position FROM es_position p WHERE p.id = 1)
           - c.position AS lag
    FROM es_consumers c;

-- -------------------------------------------------------------- helpers

-- An input quoted in a message: at most 64 bytes, cut at a character
-- boundary, "..." after a cut (as the SQLite extension quotes).
CREATE FUNCTION es__quote(t text) RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
  n int := 0;
  i int;
  c text;
  out text := '';
BEGIN
  IF t IS NULL THEN RETURN ''; END IF;
  IF octet_length(t) <= 64 THEN RETURN t; END IF;
  FOR i IN 1..length(t) LOOP
    c := substr(t, i, 1);
    IF n + octet_length(c) > 64 THEN RETURN out || '...'; END IF;
    out := out || c;
    n := n + octet_length(c);
  END LOOP;
  RETURN out;
END $$;

CREATE FUNCTION es__fail(msg text, code text DEFAULT '22023') RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION USING MESSAGE = msg, ERRCODE = code;
END $$;

-- A type name: 1-255 letters, digits, '_', '.', '-'.
CREATE FUNCTION es__is_type_name(t text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
  SELECT t ~ '^[A-Za-z0-9_.-]{1,255}$'
$$;

-- The (aggregate_id, aggregate_type) pair, checked as the SQLite
-- extension checks it.
CREATE FUNCTION es__check_stream(fn text, agg_id text, agg_type text)
RETURNS void LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  IF agg_id IS NULL THEN
    PERFORM es__fail(fn || ': aggregate_id is NULL');
  ELSIF agg_id = '' THEN
    PERFORM es__fail(fn || ': aggregate_id is empty');
  ELSIF octet_length(agg_id) > 512 THEN
    PERFORM es__fail(fn || ': aggregate_id is longer than 512 bytes');
  ELSIF agg_type IS NULL THEN
    PERFORM es__fail(fn || ': aggregate_type is NULL');
  ELSIF agg_type = '' THEN
    PERFORM es__fail(fn || ': aggregate_type is empty');
  ELSIF NOT es__is_type_name(agg_type) THEN
    PERFORM es__fail(format('%s: aggregate_type ''%s'' is not a valid type'
      ' name (1-255 letters, digits, ''_'', ''.'' or ''-'')', fn,
      es__quote(agg_type)));
  END IF;
END $$;

-- A stream id split at its last ':'; an error if it cannot name a stream.
CREATE FUNCTION es__split_stream_id(fn text, stream_id text,
  OUT agg_id text, OUT agg_type text)
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
  p int;
BEGIN
  IF stream_id IS NULL THEN
    PERFORM es__fail(fn || ': stream_id is NULL');
  END IF;
  p := length(stream_id) - strpos(reverse(stream_id), ':') + 1;
  IF strpos(stream_id, ':') = 0 OR p <= 1 OR p = length(stream_id) THEN
    PERFORM es__fail(format('%s: stream_id ''%s'' is not of the form'
      ' aggregate_id:aggregate_type', fn, es__quote(stream_id)));
  END IF;
  agg_id := left(stream_id, p - 1);
  agg_type := substr(stream_id, p + 1);
  IF octet_length(agg_id) > 512 THEN
    PERFORM es__fail(format('%s: stream_id ''%s'' has an aggregate_id'
      ' longer than 512 bytes', fn, es__quote(stream_id)));
  END IF;
  IF NOT es__is_type_name(agg_type) THEN
    PERFORM es__fail(format('%s: stream_id ''%s'' has an aggregate type that'
      ' is not a valid type name (1-255 letters, digits, ''_'', ''.'' or'
      ' ''-'')', fn, es__quote(stream_id)));
  END IF;
END $$;

-- expected_version as text: 'no_stream', 'any', 'stream_exists' (any
-- case) or an integer.
CREATE FUNCTION es__expected_version(fn text, v text) RETURNS bigint
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
  forms constant text :=
    'use an integer >= 0, ''no_stream'', ''any'' or ''stream_exists''';
BEGIN
  IF v IS NULL THEN
    PERFORM es__fail(format('%s: expected_version is NULL (%s)', fn, forms));
  END IF;
  CASE lower(v)
    WHEN 'no_stream' THEN RETURN 0;
    WHEN 'any' THEN RETURN -1;
    WHEN 'stream_exists' THEN RETURN -2;
    ELSE NULL;
  END CASE;
  IF v !~ '^-?[0-9]+$' THEN
    PERFORM es__fail(format('%s: expected_version ''%s'' is not a version'
      ' (%s)', fn, es__quote(v), forms));
  END IF;
  IF v::numeric NOT BETWEEN -9223372036854775808 AND 9223372036854775807 THEN
    PERFORM es__fail(format('%s: expected_version ''%s'' is out of range'
      ' (%s)', fn, es__quote(v), forms));
  END IF;
  RETURN v::bigint;
END $$;

-- A timestamp as API.md accepts it: ISO-8601 (T or space, optional
-- seconds and fraction, Z or +hh:mm, +hhmm, +hh; no zone is UTC) or Unix
-- seconds; years 0001-9999; NULL if it is not one.  Fractions beyond
-- microseconds are cut off, as in the SQLite extension.
CREATE FUNCTION es__timestamp(t text) RETURNS timestamptz
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
  m text[];
  y int; mo int; d int; hh int := 0; mi int := 0; ss int := 0;
  us int := 0;
  off int := 0;
  r timestamptz;
BEGIN
  IF t IS NULL THEN RETURN NULL; END IF;
  m := regexp_match(t, '^([0-9]{4})-([0-9]{2})-([0-9]{2})'
    '(?:[Tt ]([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:[.,]([0-9]+))?)?'
    '([Zz]|[+-][0-9]{2}(?::?[0-9]{2})?)?)?$');
  IF m IS NULL THEN
    -- Unix seconds: a plain decimal number (an exponent too).
    IF t !~ '^[+-]?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?$' THEN RETURN NULL; END IF;
    IF t::numeric NOT BETWEEN -62135596800 AND 253402300799.999999 THEN
      RETURN NULL;
    END IF;
    RETURN 'epoch'::timestamptz
         + make_interval(secs => trunc(t::numeric, 6)::double precision);
  END IF;
  y := m[1]::int; mo := m[2]::int; d := m[3]::int;
  IF y < 1 OR mo NOT BETWEEN 1 AND 12 OR d < 1
     OR d > extract(day FROM make_date(y, mo, 1) + interval '1 month - 1 day')
  THEN
    RETURN NULL;
  END IF;
  IF m[4] IS NOT NULL THEN
    hh := m[4]::int; mi := m[5]::int;
    IF m[6] IS NOT NULL THEN ss := m[6]::int; END IF;
    IF m[7] IS NOT NULL THEN us := rpad(left(m[7], 6), 6, '0')::int; END IF;
    IF hh > 23 OR mi > 59 OR ss > 59 THEN RETURN NULL; END IF;
    IF m[8] IS NOT NULL AND lower(m[8]) <> 'z' THEN
      IF substr(m[8], 2, 2)::int > 23
         OR coalesce(nullif(right(replace(m[8], ':', ''), -3), ''), '0')::int > 59
      THEN
        RETURN NULL;
      END IF;
      off := (substr(m[8], 2, 2)::int * 3600
              + coalesce(nullif(right(replace(m[8], ':', ''), -3), ''), '0')::int * 60)
             * CASE WHEN left(m[8], 1) = '-' THEN -1 ELSE 1 END;
    END IF;
  END IF;
  r := make_timestamptz(y, mo, d, hh, mi, ss + us / 1000000.0, 'UTC')
       - make_interval(secs => off);
  IF r < '0001-01-01 00:00:00+00' OR r > '9999-12-31 23:59:59.999999+00' THEN
    RETURN NULL;
  END IF;
  RETURN r;
END $$;

-- The keys an event object may have.
CREATE FUNCTION es__event_keys() RETURNS text[]
LANGUAGE sql IMMUTABLE AS $$
  SELECT ARRAY['event_type', 'data', 'event_id', 'event_version',
               'occurred_at', 'tenant_id', 'actor_id', 'correlation_id',
               'causation_id', 'metadata']
$$;

-- A checked event, as es__append stores it.
CREATE TYPE es__event AS (
  event_id uuid,
  event_type text,
  event_version bigint,
  tenant_id text,
  actor_id text,
  correlation_id uuid,
  causation_id uuid,
  occurred_at timestamptz,
  data jsonb,
  metadata jsonb,
  given_id boolean
);

-- Check event object ev (its keys besides event_type and data when
-- b_options: the options of the 5/6-argument form) into an es__event.
-- pre names the event in messages ('event 2: ').
CREATE FUNCTION es__parse_event(ev json, pre text, b_options boolean,
                                base es__event) RETURNS es__event
LANGUAGE plpgsql STABLE AS $$
DECLARE
  e es__event := base;
  what text := CASE WHEN b_options THEN 'options' ELSE 'the event' END;
  k text;
  v json;
  t text;
  seen text[] := '{}';
  n numeric;
BEGIN
  IF json_typeof(ev) IS DISTINCT FROM 'object' THEN
    PERFORM es__fail(format('es_append: %s%s must be a JSON object', pre, what));
  END IF;
  FOR k, v IN SELECT key, value FROM json_each(ev) LOOP
    IF NOT k = ANY (es__event_keys()) THEN
      PERFORM es__fail(format('es_append: %sunknown key ''%s'' in %s (allowed:'
        ' event_type, data, event_id, event_version, occurred_at, tenant_id,'
        ' actor_id, correlation_id, causation_id, metadata)', pre,
        es__quote(k), what));
    END IF;
    IF b_options AND k IN ('event_type', 'data') THEN
      PERFORM es__fail(format('es_append: %s%s belongs in its own argument,'
        ' not in options', pre, k));
    END IF;
    IF k = ANY (seen) THEN
      PERFORM es__fail(format('es_append: %sduplicate key ''%s'' in %s', pre,
                              k, what));
    END IF;
    seen := seen || k;
    CONTINUE WHEN json_typeof(v) = 'null';          -- null: the default
    IF k IN ('data', 'metadata') THEN
      IF json_typeof(v) <> 'object' THEN
        PERFORM es__fail(format('es_append: %s%s must be a JSON object', pre, k));
      END IF;
      IF k = 'data' THEN e.data := v::jsonb; ELSE e.metadata := v::jsonb; END IF;
    ELSIF k = 'event_version' THEN
      t := v::text;
      IF json_typeof(v) <> 'number' OR t !~ '^-?[0-9]+$' THEN
        PERFORM es__fail(format('es_append: %sevent_version must be an integer'
          ' >= 1, not %s', pre, es__quote(t)));
      END IF;
      n := t::numeric;
      IF n < 1 OR n > 9223372036854775807 THEN
        PERFORM es__fail(format('es_append: %sevent_version must be an integer'
          ' >= 1, not %s%s', pre, es__quote(t),
          CASE WHEN n > 9223372036854775807 OR n < -9223372036854775808
               THEN ' (out of range)' ELSE '' END));
      END IF;
      e.event_version := n::bigint;
    ELSIF k = 'occurred_at' THEN
      IF json_typeof(v) = 'string' THEN t := v #>> '{}';
      ELSIF json_typeof(v) = 'number' THEN t := v::text;
      ELSE
        PERFORM es__fail(format('es_append: %soccurred_at must be an ISO-8601'
          ' timestamp or Unix seconds, not %s', pre, es__quote(v::text)));
      END IF;
      e.occurred_at := es__timestamp(t);
      IF e.occurred_at IS NULL THEN
        PERFORM es__fail(format('es_append: %soccurred_at is not a valid'
          ' timestamp: ''%s'' (use ISO-8601 such as 2026-11-26T10:00:00Z, or'
          ' Unix seconds)', pre, es__quote(t)));
      END IF;
    ELSE
      IF json_typeof(v) <> 'string' THEN
        PERFORM es__fail(format('es_append: %s%s must be a string', pre, k));
      END IF;
      t := v #>> '{}';
      IF k = 'event_type' THEN
        IF t = '' THEN
          PERFORM es__fail(format('es_append: %sevent_type is empty', pre));
        END IF;
        IF NOT es__is_type_name(t) THEN
          PERFORM es__fail(format('es_append: %sevent_type ''%s'' is not a'
            ' valid type name (1-255 letters, digits, ''_'', ''.'' or ''-'')',
            pre, es__quote(t)));
        END IF;
        e.event_type := t;
      ELSIF k IN ('event_id', 'correlation_id', 'causation_id') THEN
        IF t !~ '^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$' THEN
          PERFORM es__fail(format('es_append: %s%s is not a UUID: ''%s''',
                                  pre, k, es__quote(t)));
        END IF;
        IF k = 'event_id' THEN e.event_id := t::uuid; e.given_id := true;
        ELSIF k = 'correlation_id' THEN e.correlation_id := t::uuid;
        ELSE e.causation_id := t::uuid;
        END IF;
      ELSE
        IF t = '' THEN
          PERFORM es__fail(format('es_append: %s%s is empty', pre, k));
        END IF;
        IF octet_length(t) > 255 THEN
          PERFORM es__fail(format('es_append: %s%s is longer than 255 bytes',
                                  pre, k));
        END IF;
        IF k = 'tenant_id' THEN e.tenant_id := t; ELSE e.actor_id := t; END IF;
      END IF;
    END IF;
  END LOOP;
  IF NOT b_options AND e.event_type IS NULL THEN
    PERFORM es__fail(format('es_append: %sevent_type is missing', pre));
  END IF;
  RETURN e;
END $$;

-- An event with every default filled in that ev leaves out.
CREATE FUNCTION es__defaults() RETURNS es__event
LANGUAGE sql VOLATILE AS $$
  SELECT ROW(gen_random_uuid(), NULL, 1, NULL, NULL, gen_random_uuid(), NULL,
             clock_timestamp(), '{}'::jsonb, '{}'::jsonb, false)::es__event
$$;

-- ------------------------------------------------------------ es_append

-- The append itself, on checked events.  It runs with the rights of its
-- caller: es_append, which runs as the store's owner.  Called directly by
-- another role, it can write nothing.
CREATE FUNCTION es__append(agg_id text, agg_type text, expected bigint,
                           evs es__event[]) RETURNS json
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  v_pos bigint;
  v_last_stored timestamptz;
  v_key bigint;
  v_version bigint := 0;
  v_new bigint;
  v_stored timestamptz;
  v_last_inserted bigint := 0;
  v_stored_pos bigint := 0;
  e es__event;
  i int;
  n int := coalesce(array_length(evs, 1), 0);
  r record;
  same boolean;
  seen uuid[] := '{}';
BEGIN
  IF expected < -2 THEN
    PERFORM es__fail(format('es_append: expected_version %s is out of range'
      ' (use n >= 0, -1 for any, -2 for stream_exists)', expected));
  END IF;
  -- Repeated ids within the batch: the same event is one event.
  FOR i IN 1..n LOOP
    e := evs[i];
    IF e.event_id = ANY (seen) THEN
      SELECT bool_or(x.event_type = e.event_type AND x.data = e.data)
        INTO same FROM unnest(evs[1:i-1]) x WHERE x.event_id = e.event_id;
      IF NOT same THEN
        PERFORM es__fail(format('es_append: event id %s appears twice in the'
          ' batch with different content', e.event_id), '23505');
      END IF;
    END IF;
    seen := seen || e.event_id;
  END LOOP;

  -- THE DESIGN: the lock, the high-water mark and the newest stored_at.
  SELECT p.global_position, p.stored_at INTO v_pos, v_last_stored
    FROM es_position p WHERE p.id = 1 FOR UPDATE;
  SELECT s.stream_key INTO v_key FROM es_streams s
    WHERE s.aggregate_id = agg_id AND s.aggregate_type = agg_type;
  IF v_key IS NOT NULL THEN
    SELECT coalesce(max(x.stream_position), 0) INTO v_version
      FROM es_events x WHERE x.stream_key = v_key;
  END IF;

  IF NOT (expected = -1 OR (expected = -2 AND v_version > 0)
          OR expected = v_version) THEN
    -- A retry of a batch stored whole right after the expected version
    -- is answered with the original result.
    IF expected >= 0 AND v_key IS NOT NULL AND expected + n <= v_version THEN
      SELECT count(*) = n, max(x.global_position) INTO same, v_stored_pos
        FROM es_events x
        JOIN unnest(evs) WITH ORDINALITY b ON x.stream_key = v_key
         AND x.stream_position = expected + b.ordinality
         AND x.event_id = b.event_id AND x.event_type = b.event_type
         AND x.data = b.data;
      IF same THEN
        SELECT x.global_position INTO v_stored_pos FROM es_events x
          WHERE x.stream_key = v_key AND x.stream_position = expected + n;
        RETURN format('{"success":true,"new_version":%s,"global_position":%s,'
                      '"conflict":false}', expected + n, v_stored_pos)::json;
      END IF;
    END IF;
    PERFORM es__fail(format('es_append: version conflict on stream ''%s:%s'':'
      ' expected version %s, actual version %s', agg_id, agg_type, expected,
      v_version), 'ES409');
  END IF;

  IF v_key IS NULL THEN
    INSERT INTO es_streams (aggregate_id, aggregate_type, stream_id)
      VALUES (agg_id, agg_type, agg_id || ':' || agg_type)
      RETURNING stream_key INTO v_key;
  END IF;
  -- stored_at never goes backwards along global_position.
  v_stored := greatest(clock_timestamp(), v_last_stored);
  v_new := v_version;
  seen := '{}';
  FOR i IN 1..n LOOP
    e := evs[i];
    CONTINUE WHEN e.event_id = ANY (seen);           -- earlier in the batch
    seen := seen || e.event_id;
    -- A stored id makes the insert a no-op (no lookup before it: the
    -- unique index finds it); only then is the stored event compared.
    INSERT INTO es_events VALUES (v_pos + 1, v_key, v_new + 1, e.event_id,
      e.event_type, e.event_version, e.tenant_id, e.actor_id,
      e.correlation_id, e.causation_id, e.occurred_at, v_stored, e.data,
      e.metadata) ON CONFLICT (event_id) DO NOTHING;
    IF NOT FOUND THEN
      SELECT x.global_position,
             x.event_type = e.event_type AND x.data = e.data AS same_content
        INTO r FROM es_events x WHERE x.event_id = e.event_id;
      IF NOT r.same_content THEN
        PERFORM es__fail(format('es_append: event id %s is already stored'
          ' with different content', e.event_id), '23505');
      END IF;
      v_stored_pos := r.global_position;             -- the same event: skipped
      CONTINUE;
    END IF;
    v_new := v_new + 1;
    v_pos := v_pos + 1;
    v_last_inserted := v_pos;
  END LOOP;
  IF v_last_inserted > 0 THEN
    PERFORM set_config('eventstore.internal', 'on', true);
    UPDATE es_position SET global_position = v_pos, stored_at = v_stored
      WHERE id = 1;
    PERFORM set_config('eventstore.internal', 'off', true);
  ELSIF v_new = v_version AND v_version = 0 THEN
    -- Every event was stored elsewhere: no events, so no stream either.
    PERFORM set_config('eventstore.internal', 'on', true);
    DELETE FROM es_streams WHERE stream_key = v_key;
    PERFORM set_config('eventstore.internal', 'off', true);
  END IF;
  RETURN format('{"success":true,"new_version":%s,"global_position":%s,'
                '"conflict":false}', v_new,
                CASE WHEN v_last_inserted > 0 THEN v_last_inserted
                     ELSE v_stored_pos END)::json;
END $$;

-- The events argument of the 4-argument form: one event object or a
-- non-empty array of them.
CREATE FUNCTION es__parse_events(events json) RETURNS es__event[]
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  out es__event[] := '{}';
  ev json;
  i int;
BEGIN
  IF events IS NULL THEN PERFORM es__fail('es_append: events is NULL'); END IF;
  IF json_typeof(events) = 'object' THEN
    RETURN ARRAY[es__parse_event(events, '', false, es__defaults())];
  END IF;
  IF json_typeof(events) <> 'array' THEN
    PERFORM es__fail('es_append: events must be a JSON object or a non-empty'
                     ' array of objects');
  END IF;
  IF json_array_length(events) = 0 THEN
    PERFORM es__fail('es_append: events is an empty array: nothing to append');
  END IF;
  FOR ev, i IN SELECT value, ordinality FROM json_array_elements(events)
                      WITH ORDINALITY LOOP
    out := out || es__parse_event(ev, format('event %s: ', i), false,
                                  es__defaults());
  END LOOP;
  RETURN out;
END $$;

-- The 5/6-argument form's event.
CREATE FUNCTION es__parse_single(event_type text, data json, options json)
RETURNS es__event[]
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  e es__event := es__defaults();
BEGIN
  IF event_type IS NULL THEN PERFORM es__fail('es_append: event_type is NULL'); END IF;
  IF event_type = '' THEN PERFORM es__fail('es_append: event_type is empty'); END IF;
  IF NOT es__is_type_name(event_type) THEN
    PERFORM es__fail(format('es_append: event_type ''%s'' is not a valid type'
      ' name (1-255 letters, digits, ''_'', ''.'' or ''-'')',
      es__quote(event_type)));
  END IF;
  IF data IS NULL THEN
    PERFORM es__fail('es_append: data is NULL (pass ''{}'' for no data)');
  END IF;
  IF json_typeof(data) <> 'object' THEN
    PERFORM es__fail('es_append: data must be a JSON object');
  END IF;
  e.event_type := event_type;
  e.data := data::jsonb;
  IF options IS NOT NULL THEN
    e := es__parse_event(options, '', true, e);
  END IF;
  RETURN ARRAY[e];
END $$;

CREATE FUNCTION es_append(aggregate_id text, aggregate_type text,
                          expected_version bigint, events json) RETURNS json
LANGUAGE plpgsql VOLATILE SECURITY DEFINER AS $$
BEGIN
  PERFORM es__check_stream('es_append', aggregate_id, aggregate_type);
  IF expected_version IS NULL THEN
    PERFORM es__expected_version('es_append', NULL);
  END IF;
  RETURN es__append(aggregate_id, aggregate_type, expected_version,
                    es__parse_events(events));
END $$;

CREATE FUNCTION es_append(aggregate_id text, aggregate_type text,
                          expected_version text, events json) RETURNS json
LANGUAGE plpgsql VOLATILE SECURITY DEFINER AS $$
BEGIN
  PERFORM es__check_stream('es_append', aggregate_id, aggregate_type);
  RETURN es__append(aggregate_id, aggregate_type,
                    es__expected_version('es_append', expected_version),
                    es__parse_events(events));
END $$;

CREATE FUNCTION es_append(aggregate_id text, aggregate_type text,
                          expected_version bigint, event_type text, data json,
                          options json DEFAULT NULL) RETURNS json
LANGUAGE plpgsql VOLATILE SECURITY DEFINER AS $$
BEGIN
  PERFORM es__check_stream('es_append', aggregate_id, aggregate_type);
  IF expected_version IS NULL THEN
    PERFORM es__expected_version('es_append', NULL);
  END IF;
  RETURN es__append(aggregate_id, aggregate_type, expected_version,
                    es__parse_single(event_type, data, options));
END $$;

CREATE FUNCTION es_append(aggregate_id text, aggregate_type text,
                          expected_version text, event_type text, data json,
                          options json DEFAULT NULL) RETURNS json
LANGUAGE plpgsql VOLATILE SECURITY DEFINER AS $$
BEGIN
  PERFORM es__check_stream('es_append', aggregate_id, aggregate_type);
  RETURN es__append(aggregate_id, aggregate_type,
                    es__expected_version('es_append', expected_version),
                    es__parse_single(event_type, data, options));
END $$;

-- ------------------------------------------------------ reading functions

CREATE FUNCTION es_version(aggregate_id text, aggregate_type text)
RETURNS bigint LANGUAGE plpgsql STABLE SECURITY DEFINER AS $$
DECLARE
  v bigint;
BEGIN
  PERFORM es__check_stream('es_version', aggregate_id, aggregate_type);
  SELECT max(e.stream_position) INTO v FROM es_events e
    JOIN es_streams s ON s.stream_key = e.stream_key
   WHERE s.aggregate_id = es_version.aggregate_id
     AND s.aggregate_type = es_version.aggregate_type;
  RETURN coalesce(v, 0);
END $$;

CREATE FUNCTION es_version(stream_id text)
RETURNS bigint LANGUAGE plpgsql STABLE SECURITY DEFINER AS $$
DECLARE
  p record;
BEGIN
  p := es__split_stream_id('es_version', stream_id);
  RETURN es_version(p.agg_id, p.agg_type);
END $$;

CREATE FUNCTION es_global_position() RETURNS bigint
LANGUAGE sql STABLE SECURITY DEFINER AS $$
  SELECT coalesce(max(global_position), 0) FROM es_events
$$;

CREATE FUNCTION es_event_exists(event_id text) RETURNS integer
LANGUAGE plpgsql STABLE SECURITY DEFINER AS $$
BEGIN
  IF event_id IS NULL THEN
    PERFORM es__fail('es_event_exists: event_id is NULL');
  END IF;
  IF event_id !~ '^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$' THEN
    PERFORM es__fail(format('es_event_exists: ''%s'' is not a UUID',
                            es__quote(event_id)));
  END IF;
  RETURN (SELECT count(*) FROM es_events e WHERE e.event_id = es_event_exists.event_id::uuid);
END $$;

CREATE FUNCTION es_event_exists(event_id uuid) RETURNS integer
LANGUAGE sql STABLE SECURITY DEFINER AS $$
  SELECT count(*)::integer FROM es_events e WHERE e.event_id = $1
$$;

CREATE FUNCTION es_uuid() RETURNS uuid
LANGUAGE sql VOLATILE AS $$ SELECT gen_random_uuid() $$;

-- A stream id that can name a stream, or an error (the function form of
-- event_stream checks its argument with it).
CREATE FUNCTION es__stream_key(fn text, stream_id text) RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
  p record;
BEGIN
  p := es__split_stream_id(fn, stream_id);
  RETURN stream_id;
END $$;


-- ------------------------------------------------------------ consumers

-- A consumer's name: 1-255 bytes.
CREATE FUNCTION es__check_name(fn text, name text) RETURNS void
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  IF name IS NULL THEN
    PERFORM es__fail(fn || ': name is NULL');
  ELSIF name = '' THEN
    PERFORM es__fail(fn || ': name is empty');
  ELSIF octet_length(name) > 255 THEN
    PERFORM es__fail(fn || ': name is longer than 255 bytes');
  END IF;
END $$;

-- An integer argument of at least lo.
CREATE FUNCTION es__check_integer(fn text, arg text, v bigint, lo bigint)
RETURNS void LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  IF v IS NULL THEN
    PERFORM es__fail(format('%s: %s is NULL', fn, arg));
  ELSIF v < lo THEN
    PERFORM es__fail(format('%s: %s %s is out of range (it must be %s or'
                            ' more)', fn, arg, v, lo));
  END IF;
END $$;

CREATE FUNCTION es_checkpoint(name text) RETURNS bigint
LANGUAGE plpgsql STABLE SECURITY DEFINER AS $$
BEGIN
  PERFORM es__check_name('es_checkpoint', name);
  RETURN coalesce((SELECT c.position FROM es_consumers c
                    WHERE c.name = es_checkpoint.name), 0);
END $$;

-- Both forms of es_checkpoint_set.  The consumer's row is locked (made
-- first, at 0, if it is new) before it is compared: a concurrent setter
-- waits, then compares with what the other one committed, so of two
-- instances that read the same checkpoint exactly one moves it.
CREATE FUNCTION es__checkpoint_set(name text, pos bigint, expected bigint,
                                   b_expected boolean)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  fn constant text := 'es_checkpoint_set';
  head bigint;
  cur bigint;
BEGIN
  PERFORM es__check_name(fn, name);
  PERFORM es__check_integer(fn, 'position', pos, 0);
  IF b_expected THEN
    PERFORM es__check_integer(fn, 'expected_position', expected, 0);
  END IF;
  SELECT p.global_position INTO head FROM es_position p WHERE p.id = 1;
  IF pos > head THEN
    PERFORM es__fail(format('%s: position %s is beyond the newest event'
                            ' (es_global_position() is %s)', fn, pos, head));
  END IF;
  INSERT INTO es_consumers VALUES (name, 0, now()) ON CONFLICT DO NOTHING;
  SELECT c.position INTO cur FROM es_consumers c
   WHERE c.name = es__checkpoint_set.name FOR UPDATE;
  IF b_expected AND cur <> expected THEN
    PERFORM es__fail(format('%s: checkpoint ''%s'' is at %s, not %s', fn,
                            name, cur, expected), 'ES409');
  END IF;
  IF NOT b_expected AND pos < cur THEN
    PERFORM es__fail(format('%s: checkpoint ''%s'' is at %s: without'
      ' expected_position it only moves forward (to move it back to %s, give'
      ' expected_position %s)', fn, name, cur, pos, cur));
  END IF;
  PERFORM set_config('eventstore.internal', 'on', true);
  UPDATE es_consumers c SET position = pos, updated_at = clock_timestamp()
   WHERE c.name = es__checkpoint_set.name;
  PERFORM set_config('eventstore.internal', 'off', true);
  RETURN pos;
END $$;

CREATE FUNCTION es_checkpoint_set(name text, "position" bigint)
RETURNS bigint LANGUAGE sql VOLATILE SECURITY DEFINER AS $$
  SELECT es__checkpoint_set($1, $2, NULL, false)
$$;

CREATE FUNCTION es_checkpoint_set(name text, "position" bigint,
                                  expected_position bigint)
RETURNS bigint LANGUAGE sql VOLATILE SECURITY DEFINER AS $$
  SELECT es__checkpoint_set($1, $2, $3, true)
$$;

-- es_wait: polls the position counter, each poll a statement with a
-- snapshot of its own (READ COMMITTED), with no lock taken.  A REPEATABLE
-- READ or SERIALIZABLE transaction keeps one snapshot: waiting there
-- could never see a new event, so it is an error.  pg_cancel_backend()
-- and statement_timeout stop it.
CREATE FUNCTION es_wait(after_position bigint, timeout_ms bigint DEFAULT 30000)
RETURNS bigint LANGUAGE plpgsql VOLATILE SECURITY DEFINER AS $$
DECLARE
  fn constant text := 'es_wait';
  deadline timestamptz;
  pos bigint;
BEGIN
  PERFORM es__check_integer(fn, 'after_position', after_position, 0);
  PERFORM es__check_integer(fn, 'timeout_ms', timeout_ms, 0);
  IF current_setting('transaction_isolation') <> 'read committed' THEN
    PERFORM es__fail(format('%s: cannot wait in a %s transaction: its'
      ' snapshot cannot change, so no new event could be seen (wait in READ'
      ' COMMITTED)', fn, upper(current_setting('transaction_isolation'))));
  END IF;
  deadline := clock_timestamp()
              + make_interval(secs => least(timeout_ms, 1099511627776) / 1000.0);
  LOOP
    SELECT p.global_position INTO pos FROM es_position p WHERE p.id = 1;
    EXIT WHEN pos > after_position OR clock_timestamp() >= deadline;
    PERFORM pg_sleep(least(0.01, extract(epoch FROM deadline - clock_timestamp())));
  END LOOP;
  RETURN pos;
END $$;

-- es_member: fnv1a32 of the stream id's UTF-8 bytes, mod group_size: the
-- hash of the SQLite extension (ext/member.c), byte for byte.
CREATE FUNCTION es_member(stream_id text, group_size bigint) RETURNS integer
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE SECURITY DEFINER AS $$
DECLARE
  b bytea;
  h bigint := 2166136261;
  i int;
  p record;
BEGIN
  p := es__split_stream_id('es_member', stream_id);
  IF group_size IS NULL THEN
    PERFORM es__fail('es_member: group_size is NULL');
  ELSIF group_size < 1 THEN
    PERFORM es__fail(format('es_member: group_size %s is out of range (it'
                            ' must be 1 or more)', group_size));
  ELSIF group_size > 2147483647 THEN
    PERFORM es__fail(format('es_member: group_size %s is out of range (1 to'
                            ' 2147483647)', group_size));
  END IF;
  b := convert_to(stream_id, 'UTF8');
  FOR i IN 0 .. length(b) - 1 LOOP
    h := ((h # get_byte(b, i)) * 16777619) & 4294967295;
  END LOOP;
  RETURN (h % group_size)::integer;
END $$;

-- --------------------------------------------------------------- import

-- Events stored at the positions and stored_at another store gave them:
-- how tool/es-copy loads a store (docs/scale-out.md).  In bulk:
--   SELECT es_import_begin();                   -- pg_temp.es_import_rows, empty
--   COPY pg_temp.es_import_rows FROM STDIN;     -- event_all's columns
--   SELECT es_import_rows();                    -- checked, then stored
-- or one stream's batch at a time, as on SQLite:
--   SELECT es_import(aggregate_id, aggregate_type, stream_version,
--                    global_position, stored_at, events);
-- Everything is checked before anything is stored, under the append lock
-- (THE DESIGN): the rows start right after the store's newest global
-- position and have no gaps or repeats; each stream's positions follow
-- its version; stored_at never decreases; no event id is stored already
-- or repeated.  Out of step with the store is SQLSTATE ES409 (as a
-- version conflict), a stored or repeated id 23505, anything else 22023.
-- Owner-only, as every function that writes (privileges, below): grant
-- them to the role that copies stores, not to applications.

CREATE FUNCTION es_import_begin() RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER AS $$
BEGIN
  IF to_regclass('pg_temp.es_import_rows') IS NULL THEN
    CREATE TEMP TABLE es_import_rows (
      global_position bigint, stream_id text, stream_position bigint,
      aggregate_id text, aggregate_type text, aggregate_version bigint,
      event_id uuid, event_type text, event_version bigint, tenant_id text,
      actor_id text, correlation_id uuid, causation_id uuid,
      occurred_at timestamptz, stored_at timestamptz, data jsonb,
      metadata jsonb);
    EXECUTE format('GRANT SELECT, INSERT, DELETE ON pg_temp.es_import_rows TO %I',
                   session_user);
  END IF;
  DELETE FROM pg_temp.es_import_rows;
END $$;

CREATE FUNCTION es_import_rows() RETURNS json
LANGUAGE plpgsql VOLATILE SECURITY DEFINER AS $$
DECLARE
  v_head bigint;
  v_last_stored timestamptz;
  n bigint;
  lo bigint;
  hi bigint;
  r record;
BEGIN
  IF to_regclass('pg_temp.es_import_rows') IS NULL THEN
    PERFORM es__fail('es_import_rows: there is no pg_temp.es_import_rows'
      ' (SELECT es_import_begin() makes it)');
  END IF;
  SELECT p.global_position, p.stored_at INTO v_head, v_last_stored
    FROM es_position p WHERE p.id = 1 FOR UPDATE;
  -- A temporary table has no statistics until it is analyzed: without
  -- them the planner takes the rows for a few and joins them by nested
  -- loops, which for 50,000 rows over 5,000 streams ran for minutes.
  ANALYZE pg_temp.es_import_rows;
  SELECT count(*), min(x.global_position), max(x.global_position)
    INTO n, lo, hi FROM pg_temp.es_import_rows x;
  IF n = 0 THEN
    RETURN json_build_object('imported', 0, 'global_position', v_head);
  END IF;
  IF lo IS DISTINCT FROM v_head + 1 THEN
    PERFORM es__fail(format('es_import: the store''s newest global position'
      ' is %s, so the next event is at %s, not %s', v_head, v_head + 1,
      coalesce(lo::text, 'NULL')), 'ES409');
  END IF;
  IF hi - lo + 1 <> n
     OR (SELECT count(DISTINCT x.global_position) FROM pg_temp.es_import_rows x) <> n THEN
    PERFORM es__fail(format('es_import: the rows'' global positions are not'
      ' %s..%s, each once', lo, lo + n - 1));
  END IF;
  -- Every value a stored event must have, and of the right form.
  SELECT x.global_position INTO r FROM pg_temp.es_import_rows x
   WHERE x.aggregate_id IS NULL OR x.aggregate_type IS NULL
      OR x.stream_id IS DISTINCT FROM x.aggregate_id || ':' || x.aggregate_type
      OR x.stream_position IS NULL OR x.event_id IS NULL
      OR x.event_type IS NULL OR x.event_type = ''
      OR x.event_version IS NULL OR x.event_version < 1
      OR x.occurred_at IS NULL OR x.stored_at IS NULL
      OR x.data IS NULL OR jsonb_typeof(x.data) <> 'object'
      OR x.metadata IS NULL OR jsonb_typeof(x.metadata) <> 'object'
   ORDER BY x.global_position LIMIT 1;
  IF FOUND THEN
    PERFORM es__fail(format('es_import: the row at global position %s lacks'
      ' a value a stored event has (aggregate_id, aggregate_type, stream_id'
      ' = aggregate_id:aggregate_type, stream_position, event_id, event_type, event_version >= 1,'
      ' occurred_at, stored_at, data and metadata objects)', r.global_position));
  END IF;
  FOR r IN SELECT DISTINCT x.aggregate_id, x.aggregate_type
             FROM pg_temp.es_import_rows x LOOP
    PERFORM es__check_stream('es_import', r.aggregate_id, r.aggregate_type);
  END LOOP;
  -- stored_at never decreases along global_position.
  SELECT y.global_position, y.stored_at, y.prev INTO r FROM (
    SELECT x.global_position, x.stored_at,
           coalesce(lag(x.stored_at) OVER (ORDER BY x.global_position),
                    v_last_stored) AS prev
      FROM pg_temp.es_import_rows x) y
   WHERE y.stored_at < y.prev ORDER BY y.global_position LIMIT 1;
  IF FOUND THEN
    PERFORM es__fail(format('es_import: stored_at %s at global position %s is'
      ' before the event''s before it, %s (stored_at never decreases along'
      ' global_position)', r.stored_at, r.global_position, r.prev));
  END IF;
  -- Event ids: none repeated, none stored.
  SELECT x.event_id INTO r FROM pg_temp.es_import_rows x
   GROUP BY x.event_id HAVING count(*) > 1 LIMIT 1;
  IF FOUND THEN
    PERFORM es__fail(format('es_import: event id %s appears twice in the'
      ' rows (an import never skips an event)', r.event_id), '23505');
  END IF;
  -- (An id stored already is found by the insert's unique index, below:
  -- a join of the rows to es_events here read the whole table per chunk.)
  -- The streams, new ones first; then each stream's positions.  Rows and
  -- streams are joined by stream_id, one unique column: joined by the
  -- pair of ids the planner misjudged the join (the pair is correlated)
  -- and chose nested loops that ran for minutes.
  INSERT INTO es_streams (aggregate_id, aggregate_type, stream_id)
    SELECT min(x.aggregate_id), min(x.aggregate_type), x.stream_id
      FROM pg_temp.es_import_rows x
     GROUP BY x.stream_id
     ORDER BY min(x.global_position)
    ON CONFLICT DO NOTHING;
  -- The streams just written are not in es_streams' statistics, and the
  -- planner, taking it for small, joined it to the rows by nested loops
  -- that ran for minutes (50,000 rows, 5,000 new streams).
  ANALYZE es_streams;
  -- (Each stream's version read once, through its index; MATERIALIZED,
  -- or the planner joins the rows to it by a nested loop, to read it in
  -- stream_key order for the window, at 50,000 x 5,000 comparisons.)
  WITH v AS MATERIALIZED (
    SELECT s.stream_key, s.stream_id,
           coalesce((SELECT max(e.stream_position) FROM es_events e
                      WHERE e.stream_key = s.stream_key), 0) AS version
      FROM (SELECT DISTINCT x.stream_id FROM pg_temp.es_import_rows x) d
      JOIN es_streams s ON s.stream_id = d.stream_id)
  SELECT y.aggregate_id, y.aggregate_type, y.stream_position, y.expected
    INTO r FROM (
    SELECT x.aggregate_id, x.aggregate_type, x.stream_position,
           v.version + row_number() OVER (PARTITION BY v.stream_key
                                          ORDER BY x.global_position) AS expected
      FROM pg_temp.es_import_rows x JOIN v ON v.stream_id = x.stream_id) y
   WHERE y.stream_position <> y.expected LIMIT 1;
  IF FOUND THEN
    PERFORM es__fail(format('es_import: stream ''%s:%s'' is at version %s,'
      ' not %s', r.aggregate_id, r.aggregate_type, r.expected - 1,
      r.stream_position - 1), 'ES409');
  END IF;
  BEGIN
    INSERT INTO es_events
      SELECT x.global_position, s.stream_key, x.stream_position, x.event_id,
             x.event_type, x.event_version, x.tenant_id, x.actor_id,
             x.correlation_id, x.causation_id, x.occurred_at, x.stored_at,
             x.data, x.metadata
        FROM pg_temp.es_import_rows x
        JOIN es_streams s ON s.stream_id = x.stream_id
       ORDER BY x.global_position;
  EXCEPTION WHEN unique_violation THEN
    -- The positions were checked: the id is stored.  Which one, and where
    -- (one index probe per row, on this path only).
    SELECT x.event_id, e.global_position INTO r
      FROM pg_temp.es_import_rows x
      CROSS JOIN LATERAL (SELECT y.global_position FROM es_events y
                           WHERE y.event_id = x.event_id LIMIT 1) e
     ORDER BY x.global_position LIMIT 1;
    PERFORM es__fail(format('es_import: event id %s is already stored, at'
      ' global position %s', r.event_id, r.global_position), '23505');
  END;
  PERFORM set_config('eventstore.internal', 'on', true);
  UPDATE es_position SET global_position = hi,
    stored_at = (SELECT x.stored_at FROM pg_temp.es_import_rows x
                  WHERE x.global_position = hi)
    WHERE id = 1;
  PERFORM set_config('eventstore.internal', 'off', true);
  DELETE FROM pg_temp.es_import_rows;
  RETURN json_build_object('imported', n, 'global_position', hi);
END $$;

-- One stream's batch, as the SQLite extension's es_import takes it.
CREATE FUNCTION es_import(aggregate_id text, aggregate_type text,
                          stream_version bigint, global_position bigint,
                          stored_at timestamptz, events json) RETURNS json
LANGUAGE plpgsql VOLATILE SECURITY DEFINER AS $$
DECLARE
  evs es__event[];
  i int;
BEGIN
  PERFORM es__check_stream('es_import', aggregate_id, aggregate_type);
  IF stream_version IS NULL OR stream_version < 0 THEN
    PERFORM es__fail('es_import: stream_version must be an integer >= 0');
  ELSIF global_position IS NULL OR global_position < 1 THEN
    PERFORM es__fail('es_import: global_position must be an integer >= 1');
  ELSIF stored_at IS NULL THEN
    PERFORM es__fail('es_import: stored_at is NULL');
  END IF;
  IF json_typeof(events) = 'object' THEN
    events := json_build_array(events);
  END IF;
  FOR i IN 0 .. coalesce(json_array_length(events), 0) - 1 LOOP
    IF events -> i -> 'event_id' IS NULL
       OR json_typeof(events -> i -> 'event_id') = 'null' THEN
      PERFORM es__fail(format('es_import: event %s has no event_id (an import'
        ' keeps every event''s own)', i + 1));
    END IF;
  END LOOP;
  evs := es__parse_events(events);
  PERFORM es_import_begin();
  INSERT INTO pg_temp.es_import_rows
    SELECT global_position + b.ordinality - 1,
           aggregate_id || ':' || aggregate_type,
           stream_version + b.ordinality, aggregate_id, aggregate_type,
           stream_version + b.ordinality, b.event_id, b.event_type,
           b.event_version, b.tenant_id, b.actor_id, b.correlation_id,
           b.causation_id,
           -- An event without occurred_at happened when it was stored.
           CASE WHEN json_typeof(events -> (b.ordinality - 1)::int -> 'occurred_at')
                     IS DISTINCT FROM 'string'
                THEN stored_at ELSE b.occurred_at END,
           stored_at, b.data, b.metadata
      FROM unnest(evs) WITH ORDINALITY b;
  RETURN format('{"success":true,"new_version":%s,"global_position":%s,'
                '"conflict":false}', stream_version + array_length(evs, 1),
                es_import_rows() ->> 'global_position')::json;
END $$;

-- ------------------------------------------------------------ snapshots

-- The stream's key and version (0, 0 if it does not exist).
CREATE FUNCTION es__stream_version(agg_id text, agg_type text,
  OUT stream_key bigint, OUT version bigint)
LANGUAGE sql STABLE AS $$
  SELECT coalesce(s.stream_key, 0),
         coalesce((SELECT max(e.stream_position) FROM es_events e
                    WHERE e.stream_key = s.stream_key), 0)
    FROM (SELECT 1) one LEFT JOIN es_streams s
      ON s.aggregate_id = agg_id AND s.aggregate_type = agg_type
$$;

CREATE FUNCTION es_snapshot_save(aggregate_id text, aggregate_type text,
  version bigint, state json, schema_version bigint DEFAULT 1)
RETURNS bigint LANGUAGE plpgsql VOLATILE SECURITY DEFINER AS $$
#variable_conflict use_column
DECLARE
  fn constant text := 'es_snapshot_save';
  st record;
  kept bigint;
BEGIN
  PERFORM es__check_stream(fn, aggregate_id, aggregate_type);
  PERFORM es__check_integer(fn, 'version', version, 1);
  PERFORM es__check_integer(fn, 'schema_version', schema_version, 1);
  IF state IS NULL THEN
    PERFORM es__fail(fn || ': state must be a JSON object, not NULL');
  ELSIF json_typeof(state) <> 'object' THEN
    PERFORM es__fail(fn || ': state must be a JSON object');
  END IF;
  st := es__stream_version(aggregate_id, aggregate_type);
  IF st.stream_key = 0 THEN
    PERFORM es__fail(format('%s: stream ''%s:%s'' does not exist', fn,
                            aggregate_id, aggregate_type));
  ELSIF version > st.version THEN
    PERFORM es__fail(format('%s: version %s is beyond stream ''%s:%s'', which'
      ' is at version %s', fn, version, aggregate_id, aggregate_type,
      st.version));
  END IF;
  -- A newer snapshot stays; the row lock of ON CONFLICT makes the
  -- comparison exact between concurrent savers.
  PERFORM set_config('eventstore.internal', 'on', true);
  INSERT INTO es_snapshots AS p
    VALUES (st.stream_key, schema_version, version, state::jsonb,
            clock_timestamp())
  ON CONFLICT (stream_key, schema_version) DO UPDATE
    SET version = excluded.version, state = excluded.state,
        stored_at = excluded.stored_at
    WHERE p.version <= excluded.version
  RETURNING p.version INTO kept;
  PERFORM set_config('eventstore.internal', 'off', true);
  IF kept IS NULL THEN
    SELECT p.version INTO kept FROM es_snapshots p
     WHERE p.stream_key = st.stream_key
       AND p.schema_version = es_snapshot_save.schema_version;
  END IF;
  RETURN kept;
END $$;

CREATE FUNCTION es_snapshot(aggregate_id text, aggregate_type text,
  schema_version bigint DEFAULT 1)
RETURNS json LANGUAGE plpgsql STABLE SECURITY DEFINER AS $$
DECLARE
  fn constant text := 'es_snapshot';
BEGIN
  PERFORM es__check_stream(fn, aggregate_id, aggregate_type);
  PERFORM es__check_integer(fn, 'schema_version', schema_version, 1);
  RETURN (SELECT json_build_object('version', p.version,
                   'schema_version', p.schema_version, 'state', p.state,
                   'stored_at', to_char(p.stored_at AT TIME ZONE 'UTC',
                                        'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))
            FROM es_snapshots p JOIN es_streams s USING (stream_key)
           WHERE s.aggregate_id = es_snapshot.aggregate_id
             AND s.aggregate_type = es_snapshot.aggregate_type
             AND p.schema_version = es_snapshot.schema_version);
END $$;

CREATE FUNCTION es_snapshot_delete(aggregate_id text, aggregate_type text)
RETURNS bigint LANGUAGE plpgsql VOLATILE SECURITY DEFINER AS $$
DECLARE
  n bigint;
BEGIN
  PERFORM es__check_stream('es_snapshot_delete', aggregate_id, aggregate_type);
  PERFORM set_config('eventstore.internal', 'on', true);
  DELETE FROM es_snapshots p USING es_streams s
   WHERE s.stream_key = p.stream_key
     AND s.aggregate_id = es_snapshot_delete.aggregate_id
     AND s.aggregate_type = es_snapshot_delete.aggregate_type;
  GET DIAGNOSTICS n = ROW_COUNT;
  PERFORM set_config('eventstore.internal', 'off', true);
  RETURN n;
END $$;

-- -------------------------------------------------------- maintenance

CREATE FUNCTION es_init() RETURNS integer
LANGUAGE sql STABLE AS $$ SELECT 1 $$;

CREATE FUNCTION es_info() RETURNS json
LANGUAGE sql STABLE SECURITY DEFINER AS $$
  SELECT format('{"version":"%s","schema_version":%s,"postgres_version":"%s"}',
    (SELECT value FROM es_meta WHERE key = 'version'),
    (SELECT value FROM es_meta WHERE key = 'schema_version'),
    current_setting('server_version'))::json
$$;

-- es_verify(): the store's invariants, as in the SQLite extension.
CREATE FUNCTION es_verify() RETURNS json
LANGUAGE plpgsql STABLE SECURITY DEFINER AS $$
DECLARE
  problems text[] := '{}';
  p text;
  n_events bigint;
  n_streams bigint;
  g bigint;
  c bigint;
BEGIN
  FOR p IN
    SELECT format('stream %s has positions %s..%s for %s events (expected 1..%s)',
                  s.stream_id, min(e.stream_position), max(e.stream_position),
                  count(*), count(*))
      FROM es_events e JOIN es_streams s USING (stream_key)
     GROUP BY s.stream_id
    HAVING min(e.stream_position) <> 1 OR max(e.stream_position) <> count(*)
     LIMIT 5
  LOOP problems := problems || p; END LOOP;
  FOR p IN
    SELECT format('stream %s: position %s (global %s) comes after position %s (global %s)',
                  s.stream_id, a.stream_position, a.global_position,
                  b.stream_position, b.global_position)
      FROM es_events a JOIN es_events b ON b.stream_key = a.stream_key
       AND b.stream_position = a.stream_position + 1
      JOIN es_streams s ON s.stream_key = a.stream_key
     WHERE b.global_position < a.global_position LIMIT 5
  LOOP problems := problems || p; END LOOP;
  SELECT count(*), coalesce(max(global_position), 0) INTO n_events, g FROM es_events;
  IF n_events > 0 AND (g <> n_events OR (SELECT min(global_position) FROM es_events) <> 1) THEN
    problems := problems || format('global positions run to %s but only %s'
                                   ' events are stored: events were removed', g, n_events);
  END IF;
  SELECT global_position INTO c FROM es_position WHERE id = 1;
  IF c <> g THEN
    problems := problems || format('the position counter is %s but the newest'
                                   ' event is at %s', c, g);
  END IF;
  FOR p IN
    SELECT format('stored_at goes backwards at global position %s', global_position)
      FROM (SELECT global_position, stored_at,
                   lag(stored_at) OVER (ORDER BY global_position) AS prev
              FROM es_events) x WHERE stored_at < prev LIMIT 5
  LOOP problems := problems || p; END LOOP;
  FOR p IN
    SELECT format('event at global position %s belongs to stream key %s, which does not exist',
                  e.global_position, e.stream_key)
      FROM es_events e LEFT JOIN es_streams s USING (stream_key)
     WHERE s.stream_key IS NULL LIMIT 5
  LOOP problems := problems || p; END LOOP;
  FOR p IN
    SELECT format('stream %s is recorded but has no events', s.stream_id)
      FROM es_streams s WHERE NOT EXISTS
           (SELECT 1 FROM es_events e WHERE e.stream_key = s.stream_key) LIMIT 5
  LOOP problems := problems || p; END LOOP;
  FOR p IN
    SELECT format('the checkpoint %s is at %s, beyond the newest event (%s)',
                  c.name, c.position, g)
      FROM es_consumers c WHERE c.position > g OR c.position < 0 LIMIT 5
  LOOP problems := problems || p; END LOOP;
  FOR p IN
    SELECT format('the snapshot of stream key %s is at version %s, beyond the'
                  ' stream''s %s', x.stream_key, x.version, x.v)
      FROM (SELECT sn.stream_key, sn.version,
                   coalesce((SELECT max(e.stream_position) FROM es_events e
                              WHERE e.stream_key = sn.stream_key), 0) AS v
              FROM es_snapshots sn) x
     WHERE x.version < 1 OR x.version > x.v LIMIT 5
  LOOP problems := problems || p; END LOOP;
  SELECT count(*) INTO n_streams FROM es_streams;
  IF cardinality(problems) = 0 THEN
    RETURN format('{"ok":true,"schema":"present","events":%s,"streams":%s,'
                  '"global_position":%s}', n_events, n_streams, g)::json;
  END IF;
  RETURN format('{"ok":false,"schema":"present","events":%s,"streams":%s,'
                '"global_position":%s,"problems":%s}', n_events, n_streams, g,
                array_to_json(problems))::json;
END $$;

-- es_clear(): delete everything, only in a database marked as a test
-- database by its owner:  ALTER DATABASE d SET eventstore.test_database = on
-- (the database's own setting: a session's SET does not count, so an
-- application cannot clear a store by mistake or on purpose).
CREATE FUNCTION es_clear() RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER AS $$
BEGIN
  IF NOT EXISTS (
       SELECT 1 FROM pg_db_role_setting s
        WHERE s.setdatabase = (SELECT oid FROM pg_database
                                WHERE datname = current_database())
          AND s.setrole = 0
          AND 'eventstore.test_database=on' = ANY (s.setconfig)) THEN
    PERFORM es__fail(format('es_clear: refused on database %s, which is not'
      ' marked as a test database (eventstore.test_database = on):'
      ' es_clear is a testing helper; nothing was changed',
      current_database()));
  END IF;
  PERFORM set_config('eventstore.internal', 'on', true);
  TRUNCATE es_events, es_streams, es_consumers, es_snapshots;
  ALTER TABLE es_streams ALTER COLUMN stream_key RESTART;
  UPDATE es_position SET global_position = 0, stored_at = NULL WHERE id = 1;
  PERFORM set_config('eventstore.internal', 'off', true);
  RETURN 1;
END $$;

-- ---------------------------------------------------------- privileges

-- The tables belong to the owner, who alone writes them (through the
-- functions above).  An application role needs USAGE on the schema,
-- EXECUTE on the es_* functions and event_stream(), and SELECT on the
-- three views (docs/postgres.md, Roles).
REVOKE ALL ON es_meta, es_position, es_streams, es_events, es_consumers,
  es_snapshots FROM PUBLIC;
REVOKE ALL ON event_all, event_stream, es_checkpoints FROM PUBLIC;

-- The functions that run as the owner find the store's objects only: their
-- search_path is fixed to this schema (then pg_temp, last); and they are
-- for the roles the owner grants them to.  event_stream(stream_id), one
-- stream in stream order, is an SQL function over the view written with
-- this schema's name, so that PostgreSQL inlines it (a SET clause would
-- stop that) and a filter, ORDER BY ... DESC or LIMIT reaches the
-- stream's index; it runs with its caller's rights, which need SELECT on
-- the view.
DO $$
DECLARE
  f regprocedure;
BEGIN
  EXECUTE format($f$
    CREATE FUNCTION %1$I.event_stream(stream_id text)
    RETURNS SETOF %1$I.event_all LANGUAGE sql STABLE AS
    'SELECT * FROM %1$I.event_stream v
      WHERE v.stream_id = %1$I.es__stream_key(''event_stream'', $1)
      ORDER BY v.stream_position'
  $f$, current_schema());
  -- The function form of event_stream runs in its caller's context, with
  -- the caller's search_path, which need not name this schema: the one
  -- helper it calls finds its own helpers all the same.
  EXECUTE format('ALTER FUNCTION %1$I.es__stream_key(text, text)'
                 ' SET search_path = %1$I, pg_temp', current_schema());
  FOR f IN SELECT p.oid::regprocedure FROM pg_proc p
            WHERE p.pronamespace = current_schema()::regnamespace
              AND p.prosecdef
  LOOP
    EXECUTE format('ALTER FUNCTION %s SET search_path = %I, pg_temp', f,
                   current_schema());
    EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', f);
  END LOOP;
END $$;
