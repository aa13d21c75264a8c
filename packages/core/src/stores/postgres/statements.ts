/**
 * Every statement `PostgresStore` sends, built once per table. Each operation is **one statement,
 * one round trip**, atomic by itself under the default READ COMMITTED isolation:
 *
 * - acquire and steal are `INSERT … ON CONFLICT (key) DO UPDATE`, which either inserts the row or
 *   locks the existing one and evaluates its `WHERE` and `SET` against the latest committed
 *   version (never a stale snapshot), so two clients can never both see the lock free;
 * - release, extend and force release are `UPDATE … WHERE <owner holds it, unexpired>`: the owner
 *   check and the change are one step, re-checked on the latest row version if a concurrent
 *   statement changed it first;
 * - time is the database's `clock_timestamp()`, read once per statement in the `now` CTE, in µs
 *   (`us`) and ms (`ms`); no client clock is ever sent.
 *
 * Parameters are values only (`$1`…); the table name is checked to be a plain identifier before it
 * is spliced in (`quotedTable`).
 *
 * The row of a lock (see `ddl`): `owner` and `expires_at` are the exclusive holder and its expiry;
 * `shared` maps each shared holder's owner token to its expiry; `expires_at` is also kept ≥ every
 * shared holder's expiry, so "nothing here is live after T" is one column. `queue` is a JSON array
 * of `[clientId, since µs, until ms]`: the managers waiting in turn, oldest first, each forgotten
 * once it stops asking (`until`). `waiters` maps each manager waiting for the lock at all (for
 * `query()`, see `LockStore.waiters`) to `[x | s, until ms]`. `fence` is the last
 * fencing token; the row outlives the lock (release only clears the holders) so the counter keeps
 * growing, and a new token is `max(fence + 1, database time in µs)`, so tokens still grow when a
 * row was swept, deleted or restored from an older backup. `listened_until` says that some store
 * is waiting for a release of this key: only then do releases `pg_notify`.
 */
export interface PostgresStatements {
  ddl: string
  upgrade: string
  acquireFree: string
  acquire: string
  release: string
  extend: string
  steal: string
  forceRelease: string
  holders: string
  waiters: string
  listen: string
  sweep: string
}

const NOW = `now AS (SELECT us, us / 1000 AS ms FROM (SELECT (extract(epoch FROM clock_timestamp()) * 1000000)::bigint AS us) t)`

/** A shared holder of row `l` that is live at `now.ms`. */
const LIVE_SHARED = (at: string) => `EXISTS (SELECT 1 FROM jsonb_each_text(l.shared) s WHERE s.value::bigint > ${at})`

export function postgresStatements(table: string, channel: string): PostgresStatements {
  const notify = (condition: string) => `LEFT JOIN LATERAL (SELECT pg_notify('${channel}', $1) WHERE ${condition}) notified ON true`
  return {
    ddl: `CREATE TABLE IF NOT EXISTS ${table} (
  key text PRIMARY KEY,
  owner text,
  expires_at bigint NOT NULL,
  shared jsonb NOT NULL DEFAULT '{}',
  queue jsonb NOT NULL DEFAULT '[]',
  fence bigint NOT NULL,
  listened_until bigint NOT NULL DEFAULT 0,
  waiters jsonb NOT NULL DEFAULT '{}'
)`,

    // $1 key, $2 owner, $3 ttl ms, $4 shared?. The uncontended case, in a statement a fraction of
    // the full one's size: granted only when nobody holds the lock, no shared holder is listed and
    // nobody waits (in turn, or at all). No row back means "not like that": the full statement below decides.
    acquireFree: `WITH ${NOW}
INSERT INTO ${table} AS l (key, owner, expires_at, shared, queue, fence)
SELECT $1, CASE WHEN $4 THEN NULL ELSE $2 END, now.ms + $3,
       CASE WHEN $4 THEN jsonb_build_object($2::text, now.ms + $3) ELSE '{}' END, '[]', now.us
FROM now
ON CONFLICT (key) DO UPDATE SET
  owner = EXCLUDED.owner, expires_at = EXCLUDED.expires_at, shared = EXCLUDED.shared, fence = greatest(l.fence + 1, EXCLUDED.fence)
WHERE (l.owner IS NULL OR l.expires_at <= EXCLUDED.expires_at - $3) AND l.shared = '{}' AND l.queue = '[]' AND l.waiters = '{}'
RETURNING l.fence`,

    // $1 key, $2 owner, $3 ttl ms, $4 shared?, $5 clientId, $6 waiting?, $7 waiter liveness ms, $8 once?.
    // The decision is made once, in the innermost sub-select `d`, from the latest committed row
    // (ON CONFLICT locks it); EXCLUDED carries the statement's time (fence: µs; expires_at - $3: ms).
    // `OFFSET 0` keeps each level a sub-select of its own: otherwise the planner inlines it and
    // copies every sub-select for each reference to its columns, and planning costs 10× execution.
    // Granted when free for the mode and no other manager has been waiting longer (the head of the
    // live queue). A refused waiting manager keeps or takes its place in the queue. A refused
    // request that is not `once` lists its manager in `waiters`; a grant removes it. Every path
    // returns the row, except a refused one-off attempt on a held lock, which writes nothing: then
    // the holders' remaining ttl is read from the statement's snapshot (a hint, not a decision).
    acquire: `WITH ${NOW},
attempt AS (
  INSERT INTO ${table} AS l (key, owner, expires_at, shared, queue, fence)
  SELECT $1, CASE WHEN $4 THEN NULL ELSE $2 END, now.ms + $3,
         CASE WHEN $4 THEN jsonb_build_object($2::text, now.ms + $3) ELSE '{}' END, '[]', now.us
  FROM now
  ON CONFLICT (key) DO UPDATE SET (owner, expires_at, shared, queue, fence, waiters) = (
    SELECT
      CASE WHEN d.granted THEN EXCLUDED.owner WHEN d.live_owner THEN l.owner END,
      CASE WHEN NOT d.granted THEN l.expires_at WHEN $4 THEN greatest(l.expires_at, EXCLUDED.expires_at) ELSE EXCLUDED.expires_at END,
      CASE WHEN NOT d.granted THEN d.live_shared WHEN $4 THEN d.live_shared || EXCLUDED.shared ELSE '{}' END,
      CASE WHEN d.granted THEN d.others WHEN NOT $6 THEN d.queue
        WHEN d.turn THEN (SELECT jsonb_agg(CASE WHEN w.e->>0 = $5 THEN jsonb_build_array(w.e->0, w.e->1, d.now + $7) ELSE w.e END ORDER BY w.i)
                          FROM jsonb_array_elements(d.queue) WITH ORDINALITY w(e, i))
        ELSE d.queue || jsonb_build_array(jsonb_build_array($5::text, EXCLUDED.fence, d.now + $7)) END,
      CASE WHEN d.granted THEN greatest(l.fence + 1, EXCLUDED.fence) ELSE l.fence END,
      CASE WHEN d.granted THEN d.waiters - $5::text WHEN $8 THEN d.waiters
        ELSE d.waiters || jsonb_build_object($5::text, jsonb_build_array(CASE WHEN $4 THEN 's' ELSE 'x' END, d.now + $7)) END
    FROM (
      SELECT p.*, p.free AND (p.queue->0->>0 IS NULL OR p.queue->0->>0 = $5) AS granted,
        CASE WHEN p.queue = '[]' THEN p.queue
          ELSE (SELECT coalesce(jsonb_agg(w.e ORDER BY w.i), '[]') FROM jsonb_array_elements(p.queue) WITH ORDINALITY w(e, i) WHERE w.e->>0 <> $5) END AS others,
        p.queue <> '[]' AND EXISTS (SELECT 1 FROM jsonb_array_elements(p.queue) w(e) WHERE w.e->>0 = $5) AS turn
      FROM (
        SELECT o.*, NOT o.live_owner AND ($4 OR o.live_shared = '{}') AS free
        FROM (
          SELECT n.now, l.owner IS NOT NULL AND l.expires_at > n.now AS live_owner,
            CASE WHEN l.shared = '{}' THEN l.shared
              ELSE coalesce((SELECT jsonb_object_agg(s.key, s.value) FROM jsonb_each(l.shared) s WHERE s.value::bigint > n.now), '{}') END AS live_shared,
            CASE WHEN l.queue = '[]' THEN l.queue
              ELSE coalesce((SELECT jsonb_agg(w.e ORDER BY w.i) FROM jsonb_array_elements(l.queue) WITH ORDINALITY w(e, i) WHERE (w.e->>2)::bigint > n.now), '[]') END AS queue,
            CASE WHEN l.waiters = '{}' THEN l.waiters
              ELSE coalesce((SELECT jsonb_object_agg(w.key, w.value) FROM jsonb_each(l.waiters) w WHERE (w.value->>1)::bigint > n.now), '{}') END AS waiters
          FROM (SELECT EXCLUDED.expires_at - $3 AS now) n
          OFFSET 0
        ) o
        OFFSET 0
      ) p
    ) d
  )
  WHERE $6 OR NOT $8 OR l.owner IS NULL OR l.expires_at <= EXCLUDED.expires_at - $3
  RETURNING l.owner, l.shared ? $2 AS shares, l.fence, l.expires_at, (l.queue->0->>2)::bigint AS turn_until
)
SELECT attempt.owner, attempt.shares, attempt.fence, attempt.expires_at - now.ms AS held_for, attempt.turn_until - now.ms AS turn_for
FROM attempt CROSS JOIN now
UNION ALL
SELECT NULL, false, NULL, l.expires_at - now.ms, NULL FROM ${table} l, now
WHERE l.key = $1 AND NOT EXISTS (SELECT 1 FROM attempt)`,

    // $1 key, $2 owner. One row when $2 held it (live) and no longer does.
    release: `WITH ${NOW},
released AS (
  UPDATE ${table} AS l SET
    owner = CASE WHEN l.owner = $2 THEN NULL ELSE l.owner END,
    expires_at = CASE WHEN l.owner = $2 THEN now.ms ELSE l.expires_at END,
    shared = l.shared - $2::text
  FROM now
  WHERE l.key = $1 AND ((l.owner = $2 AND l.expires_at > now.ms) OR (l.shared ? $2 AND (l.shared ->> $2::text)::bigint > now.ms))
  RETURNING (l.owner IS NULL OR l.expires_at <= now.ms) AND NOT ${LIVE_SHARED('now.ms')} AS free, l.listened_until > now.ms AS heard
)
SELECT true AS released FROM released ${notify('released.free AND released.heard')}`,

    // $1 key, $2 owner, $3 ttl ms. One row changed when $2 held it (live) and now holds it for $3 from now.
    extend: `WITH ${NOW}
UPDATE ${table} AS l SET
  expires_at = CASE WHEN l.owner = $2 THEN now.ms + $3 ELSE greatest(l.expires_at, now.ms + $3) END,
  shared = CASE WHEN l.owner = $2 THEN l.shared ELSE jsonb_set(l.shared, ARRAY[$2::text], to_jsonb(now.ms + $3)) END
FROM now
WHERE l.key = $1 AND ((l.owner = $2 AND l.expires_at > now.ms) OR (l.shared ? $2 AND (l.shared ->> $2::text)::bigint > now.ms))`,

    // $1 key, $2 owner, $3 ttl ms, $4 clientId. Takes the lock whoever holds it (and leaves the queue); returns the token.
    steal: `WITH ${NOW},
stolen AS (
  INSERT INTO ${table} AS l (key, owner, expires_at, shared, fence)
  SELECT $1, $2, now.ms + $3, '{}', now.us FROM now
  ON CONFLICT (key) DO UPDATE SET
    owner = EXCLUDED.owner, expires_at = EXCLUDED.expires_at, shared = '{}', fence = greatest(l.fence + 1, EXCLUDED.fence),
    queue = (SELECT coalesce(jsonb_agg(w.e ORDER BY w.i), '[]') FROM jsonb_array_elements(l.queue) WITH ORDINALITY w(e, i) WHERE w.e->>0 <> $4::text),
    waiters = l.waiters - $4::text
  RETURNING l.fence, l.listened_until
)
SELECT stolen.fence FROM stolen CROSS JOIN now ${notify('stolen.listened_until > now.ms')}`,

    // $1 key. One row when a live holder existed.
    forceRelease: `WITH ${NOW},
cleared AS (
  UPDATE ${table} AS l SET owner = NULL, expires_at = now.ms, shared = '{}'
  FROM now
  WHERE l.key = $1 AND ((l.owner IS NOT NULL AND l.expires_at > now.ms) OR ${LIVE_SHARED('now.ms')})
  RETURNING l.listened_until > now.ms AS heard
)
SELECT true AS released FROM cleared ${notify('cleared.heard')}`,

    // $1 key. The row as it is, with the database's time to judge it by.
    holders: `WITH ${NOW}
SELECT now.ms AS now, l.owner, l.expires_at, l.shared FROM now LEFT JOIN ${table} l ON l.key = $1`,

    // $1 key. The managers waiting for it, with the database's time to judge them by.
    waiters: `WITH ${NOW}
SELECT now.ms AS now, l.waiters FROM now LEFT JOIN ${table} l ON l.key = $1`,

    // $1 key, $2 ms. Marks the key as waited for, so its releases notify.
    listen: `WITH ${NOW}
INSERT INTO ${table} AS l (key, owner, expires_at, shared, fence, listened_until)
SELECT $1, NULL, 0, '{}', now.us, now.ms + $2 FROM now
ON CONFLICT (key) DO UPDATE SET listened_until = greatest(l.listened_until, EXCLUDED.listened_until)`,

    // Columns added after the first release of the table, added to a table created before them.
    upgrade: `ALTER TABLE ${table} ADD COLUMN IF NOT EXISTS queue jsonb NOT NULL DEFAULT '[]',
  ADD COLUMN IF NOT EXISTS waiters jsonb NOT NULL DEFAULT '{}'`,

    // $1 retention ms, $2 batch. Deletes rows nothing has held or waited for since $1 ago. The
    // conditions are repeated on the outer DELETE so they are re-checked on the latest row version
    // if a grant changed the row after the subquery's snapshot chose it.
    sweep: `WITH ${NOW}
DELETE FROM ${table} AS l USING now
WHERE l.key IN (SELECT i.key FROM ${table} i, now WHERE i.expires_at < now.ms - $1 AND i.listened_until < now.ms LIMIT $2)
  AND l.expires_at < now.ms - $1 AND l.listened_until < now.ms
  AND NOT EXISTS (SELECT 1 FROM jsonb_array_elements(l.queue) w(e) WHERE (w.e->>2)::bigint > now.ms)`,
  }
}
