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
 * shared holder's expiry, so "nothing here is live after T" is one column. `fence` is the last
 * fencing token; the row outlives the lock (release only clears the holders) so the counter keeps
 * growing, and a new token is `max(fence + 1, database time in µs)`, so tokens still grow when a
 * row was swept, deleted or restored from an older backup. `listened_until` says that some store
 * is waiting for a release of this key: only then do releases `pg_notify`.
 */
export interface PostgresStatements {
  ddl: string
  acquire: string
  release: string
  extend: string
  steal: string
  forceRelease: string
  holders: string
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
  fence bigint NOT NULL,
  listened_until bigint NOT NULL DEFAULT 0
)`,

    // $1 key, $2 owner, $3 ttl ms, $4 shared?
    // Granted: one row with the token. Refused: one row with the holders' remaining ttl, read
    // from the statement's snapshot (a hint for the next attempt, not a decision).
    acquire: `WITH ${NOW},
granted AS (
  INSERT INTO ${table} AS l (key, owner, expires_at, shared, fence)
  SELECT $1, CASE WHEN $4 THEN NULL ELSE $2 END, now.ms + $3,
         CASE WHEN $4 THEN jsonb_build_object($2::text, now.ms + $3) ELSE '{}' END, now.us
  FROM now
  ON CONFLICT (key) DO UPDATE SET
    owner = EXCLUDED.owner,
    expires_at = CASE WHEN $4 THEN greatest(l.expires_at, EXCLUDED.expires_at) ELSE EXCLUDED.expires_at END,
    shared = CASE WHEN $4
      THEN coalesce((SELECT jsonb_object_agg(s.key, s.value) FROM jsonb_each(l.shared) s WHERE s.value::bigint > EXCLUDED.expires_at - $3), '{}') || EXCLUDED.shared
      ELSE '{}' END,
    fence = greatest(l.fence + 1, EXCLUDED.fence)
  WHERE (l.owner IS NULL OR l.expires_at <= EXCLUDED.expires_at - $3)
    AND ($4 OR NOT ${LIVE_SHARED('EXCLUDED.expires_at - $3')})
  RETURNING l.fence
)
SELECT fence, NULL::bigint AS retry FROM granted
UNION ALL
SELECT NULL, greatest(0, l.expires_at - now.ms) FROM ${table} l, now
WHERE l.key = $1 AND NOT EXISTS (SELECT 1 FROM granted)`,

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

    // $1 key, $2 owner, $3 ttl ms. Takes the lock whoever holds it; returns the token.
    steal: `WITH ${NOW},
stolen AS (
  INSERT INTO ${table} AS l (key, owner, expires_at, shared, fence)
  SELECT $1, $2, now.ms + $3, '{}', now.us FROM now
  ON CONFLICT (key) DO UPDATE SET
    owner = EXCLUDED.owner, expires_at = EXCLUDED.expires_at, shared = '{}', fence = greatest(l.fence + 1, EXCLUDED.fence)
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

    // $1 key, $2 ms. Marks the key as waited for, so its releases notify.
    listen: `WITH ${NOW}
INSERT INTO ${table} AS l (key, owner, expires_at, shared, fence, listened_until)
SELECT $1, NULL, 0, '{}', now.us, now.ms + $2 FROM now
ON CONFLICT (key) DO UPDATE SET listened_until = greatest(l.listened_until, EXCLUDED.listened_until)`,

    // $1 retention ms, $2 batch. Deletes rows nothing has held or waited for since $1 ago. The
    // conditions are repeated on the outer DELETE so they are re-checked on the latest row version
    // if a grant changed the row after the subquery's snapshot chose it.
    sweep: `WITH ${NOW}
DELETE FROM ${table} AS l USING now
WHERE l.key IN (SELECT i.key FROM ${table} i, now WHERE i.expires_at < now.ms - $1 AND i.listened_until < now.ms LIMIT $2)
  AND l.expires_at < now.ms - $1 AND l.listened_until < now.ms`,
  }
}
