/**
 * Every statement `MysqlStore` sends, built once per table. Each operation is **one statement, one
 * round trip**, atomic by itself in InnoDB:
 *
 * - acquire and steal are `INSERT … SELECT … ON DUPLICATE KEY UPDATE … RETURNING` (MariaDB ≥ 10.5):
 *   the insert, or the locked existing row, is decided in one step and the row as it ends up comes
 *   back, so the client sees whether its owner token is in it. `SET` assignments run left to right
 *   and later ones see earlier ones' new values, so the grant decision is made once, in the first
 *   assignment, into the session variable `@cachelock_granted`, which the others read.
 * - release, extend and force release are `UPDATE … WHERE <owner holds it, unexpired>`: the owner
 *   check and the change are one locking step (InnoDB evaluates the `WHERE` on the locked latest row).
 * - time is the database's `UTC_TIMESTAMP(6)` (fixed for one statement, independent of the session
 *   time zone), as µs since the epoch; no client clock is ever sent. (MariaDB refuses `VALUES()`
 *   inside a subquery of `ON DUPLICATE KEY UPDATE`, so subqueries read the clock themselves: the
 *   same instant, since it is fixed per statement.)
 *
 * Parameters are values only (`?`); the table name is checked to be a plain identifier before it is
 * spliced in.
 *
 * The row of a lock: `owner`/`expires_at` are the exclusive holder and its expiry; `shared` is a
 * JSON array of `[owner, expiry]` pairs (an array, not an object keyed by owner, so no owner token
 * ever becomes part of a JSON path); `expires_at` is kept ≥ every shared expiry. `waiters` is a JSON
 * array of `[clientId, x | s, until ms]`: the managers waiting for the lock at all, for `query()`
 * (see `LockStore.waiters`). `fence` is the last
 * fencing token; the row outlives the lock so the counter keeps growing, and a new token is
 * `max(fence + 1, database time in µs)`, so tokens still grow after a row was swept.
 */
export interface MysqlStatements {
  ddl: string
  upgrade: string
  acquireFree: string
  acquire: string
  releaseExclusive: string
  release: string
  extendExclusive: string
  extend: string
  steal: string
  forceRelease: string
  holders: string
  waiters: string
  sweep: string
}

const NOW_US = `TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', UTC_TIMESTAMP(6))`
const NOW_MS = `(${NOW_US} DIV 1000)`
/**
 * The shared holders of the row as a derived table `j(o, e)`. MariaDB materializes every
 * `JSON_TABLE` into a temporary table, a few hundred µs each: every use is guarded by
 * `JSON_LENGTH(…) > 0`, so an uncontended lock (no shared holder, nobody waiting) runs none.
 */
const SHARED = (column: string) =>
  `JSON_TABLE(${column}, '$[*]' COLUMNS (o VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin PATH '$[0]', e BIGINT PATH '$[1]')) j`
const LIVE_SHARED = (at: string) => `(JSON_LENGTH(shared) > 0 AND EXISTS (SELECT 1 FROM ${SHARED('shared')} WHERE j.e > ${at}))`
/** The live shared holders as a JSON array of pairs, keeping those `where` selects. */
const LIVE_SHARED_ARRAY = (where = 'TRUE', entry = 'JSON_ARRAY(j.o, j.e)') =>
  `IF(JSON_LENGTH(shared) = 0, JSON_ARRAY(), COALESCE((SELECT JSON_ARRAYAGG(${entry}) FROM ${SHARED('shared')} WHERE j.e > ${NOW_MS} AND ${where}), JSON_ARRAY()))`
/** The waiting managers of the row as a derived table `q(ord, c, s, u)`: client id, since (µs), until (ms). */
const QUEUE = `JSON_TABLE(queue, '$[*]' COLUMNS (ord FOR ORDINALITY, c VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin PATH '$[0]', s BIGINT PATH '$[1]', u BIGINT PATH '$[2]')) q`
/** The live queue as a JSON array, in order, keeping those rows of it that `where` selects. */
const LIVE_QUEUE = (where = 'TRUE', entry = 'JSON_ARRAY(q.c, q.s, q.u)') =>
  `IF(JSON_LENGTH(queue) = 0, JSON_ARRAY(), COALESCE((SELECT JSON_ARRAYAGG(${entry} ORDER BY q.ord) FROM ${QUEUE} WHERE q.u > ${NOW_MS} AND ${where}), JSON_ARRAY()))`
/** The waiting managers of the row as a derived table `w(c, m, u)`: client id, mode, until (ms). */
const WAITERS = `JSON_TABLE(waiters, '$[*]' COLUMNS (c VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin PATH '$[0]', m CHAR(1) PATH '$[1]', u BIGINT PATH '$[2]')) w`
/** The live waiters as a JSON array, leaving out the asking manager (`@cachelock_client`). */
const OTHER_WAITERS = `IF(JSON_LENGTH(waiters) = 0, JSON_ARRAY(), COALESCE((SELECT JSON_ARRAYAGG(JSON_ARRAY(w.c, w.m, w.u)) FROM ${WAITERS} WHERE w.u > ${NOW_MS} AND w.c <> @cachelock_client), JSON_ARRAY()))`
/** One live shared hold by the owner given as the next `?`. */
const MY_SHARED = `(JSON_LENGTH(shared) > 0 AND EXISTS (SELECT 1 FROM ${SHARED('shared')} WHERE j.o = ? AND j.e > ${NOW_MS}))`

export function mysqlStatements(table: string): MysqlStatements {
  return {
    ddl: `CREATE TABLE IF NOT EXISTS ${table} (
  \`key\` VARBINARY(512) NOT NULL PRIMARY KEY,
  owner VARBINARY(255) NULL,
  expires_at BIGINT NOT NULL,
  shared JSON NOT NULL,
  queue JSON NOT NULL,
  fence BIGINT NOT NULL,
  waiters JSON NOT NULL DEFAULT (JSON_ARRAY())
) ENGINE=InnoDB`,

    // Columns added after the first release of the table, added to a table created before them.
    upgrade: `ALTER TABLE ${table} ADD COLUMN IF NOT EXISTS queue JSON NOT NULL DEFAULT (JSON_ARRAY()) AFTER shared,
  ADD COLUMN IF NOT EXISTS waiters JSON NOT NULL DEFAULT (JSON_ARRAY())`,

    // ? key, shared (boolean), owner, ttl. The uncontended case in a statement MariaDB plans and runs
    // in a fraction of the full one's time: granted only when nobody holds the lock, no shared
    // holder is listed and nobody waits, in turn or at all (no JSON to look into). Anything else is left unchanged
    // and the full statement below decides.
    acquireFree: `INSERT INTO ${table} (\`key\`, owner, expires_at, shared, queue, fence)
SELECT n.k, IF(n.s, NULL, n.o), n.us DIV 1000 + n.ttl, IF(n.s, JSON_ARRAY(JSON_ARRAY(n.o, n.us DIV 1000 + n.ttl)), JSON_ARRAY()), JSON_ARRAY(), n.us
FROM (SELECT ? AS k, ? AS s, ? AS o, ? AS ttl, ${NOW_US} AS us) n
ON DUPLICATE KEY UPDATE
  fence = IF(@cachelock_granted := ((owner IS NULL OR expires_at <= ${NOW_MS}) AND JSON_LENGTH(shared) = 0 AND JSON_LENGTH(queue) = 0
      AND JSON_LENGTH(waiters) = 0),
    GREATEST(fence + 1, VALUES(fence)), fence),
  shared = IF(@cachelock_granted, VALUES(shared), shared),
  expires_at = IF(@cachelock_granted, VALUES(expires_at), expires_at),
  owner = IF(@cachelock_granted, VALUES(owner), owner)
RETURNING fence, owner, shared`,

    // ? key, shared (boolean), owner, ttl, clientId, waiting (boolean), liveness ms, once (boolean). The client,
    // the waiting flag and the liveness reach the ON DUPLICATE KEY UPDATE through session variables
    // set by the SELECT that produces the row (VALUES() would not reach into its subqueries).
    // Owner NULL in the inserted row means a shared request; VALUES(fence) is the statement's time
    // in µs, VALUES(expires_at) the new expiry. Granted when free for the mode and no other manager
    // has waited longer (the head of the live queue); a refused waiting manager keeps or takes its
    // place in the queue. A refused request that is not `once` lists its manager in `waiters`; a
    // grant removes it.
    acquire: `INSERT INTO ${table} (\`key\`, owner, expires_at, shared, queue, fence)
SELECT n.k, IF(n.s, NULL, n.o), n.us DIV 1000 + n.ttl, IF(n.s, JSON_ARRAY(JSON_ARRAY(n.o, n.us DIV 1000 + n.ttl)), JSON_ARRAY()), JSON_ARRAY(), n.us
FROM (SELECT ? AS k, ? AS s, ? AS o, ? AS ttl, ${NOW_US} AS us, @cachelock_client := ? AS c, @cachelock_waiting := ? AS w,
  @cachelock_liveness := ? AS lv, @cachelock_once := ? AS oc) n
ON DUPLICATE KEY UPDATE
  fence = IF(@cachelock_granted := ((owner IS NULL OR expires_at <= ${NOW_MS})
      AND (VALUES(owner) IS NULL OR NOT ${LIVE_SHARED(NOW_MS)})
      AND (JSON_LENGTH(queue) = 0 OR COALESCE((SELECT q.c FROM ${QUEUE} WHERE q.u > ${NOW_MS} ORDER BY q.ord LIMIT 1), @cachelock_client) = @cachelock_client)),
    GREATEST(fence + 1, VALUES(fence)), fence),
  queue = IF(@cachelock_granted, ${LIVE_QUEUE('q.c <> @cachelock_client')},
    IF(NOT @cachelock_waiting, ${LIVE_QUEUE()},
      IF(JSON_LENGTH(queue) > 0 AND EXISTS (SELECT 1 FROM ${QUEUE} WHERE q.u > ${NOW_MS} AND q.c = @cachelock_client),
        ${LIVE_QUEUE('TRUE', `JSON_ARRAY(q.c, q.s, IF(q.c = @cachelock_client, ${NOW_MS} + @cachelock_liveness, q.u))`)},
        JSON_ARRAY_APPEND(${LIVE_QUEUE()}, '$', JSON_ARRAY(@cachelock_client, ${NOW_US}, ${NOW_MS} + @cachelock_liveness))))),
  waiters = IF(@cachelock_granted, ${OTHER_WAITERS},
    IF(@cachelock_once, waiters,
      JSON_ARRAY_APPEND(${OTHER_WAITERS}, '$', JSON_ARRAY(@cachelock_client, IF(VALUES(owner) IS NULL, 's', 'x'), ${NOW_MS} + @cachelock_liveness)))),
  shared = IF(@cachelock_granted,
    IF(VALUES(owner) IS NULL,
      JSON_ARRAY_APPEND(${LIVE_SHARED_ARRAY()}, '$', JSON_EXTRACT(VALUES(shared), '$[0]')),
      JSON_ARRAY()),
    shared),
  expires_at = IF(@cachelock_granted, IF(VALUES(owner) IS NULL, GREATEST(expires_at, VALUES(expires_at)), VALUES(expires_at)), expires_at),
  owner = IF(@cachelock_granted, VALUES(owner), owner)
RETURNING fence, owner, shared, expires_at - ${NOW_MS} AS remaining, JSON_VALUE(queue, '$[0][2]') - ${NOW_MS} AS turn_for`,

    // ? key, ? owner. The exclusive holder's release, without JSON; matches nothing for a shared holder.
    releaseExclusive: `UPDATE ${table} SET expires_at = ${NOW_MS}, owner = NULL WHERE \`key\` = ? AND owner = ? AND expires_at > ${NOW_MS}`,

    // ? owner ×3, ? key, ? owner ×2. Matches one row when the owner held it (live).
    release: `UPDATE ${table} SET
  shared = ${LIVE_SHARED_ARRAY('j.o <> ?')},
  expires_at = IF(owner = ?, ${NOW_MS}, expires_at),
  owner = IF(owner = ?, NULL, owner)
WHERE \`key\` = ? AND ((owner = ? AND expires_at > ${NOW_MS}) OR ${MY_SHARED})`,

    // ? ttl, ? key, ? owner. The exclusive holder's extend, without JSON; matches nothing for a shared holder.
    extendExclusive: `UPDATE ${table} SET expires_at = ${NOW_MS} + ? WHERE \`key\` = ? AND owner = ? AND expires_at > ${NOW_MS}`,

    // ? owner, owner, ttl, owner, ttl, ttl, key, owner, owner. Matches one row when the owner held it (live).
    extend: `UPDATE ${table} SET
  shared = IF(owner = ?, shared,
    ${LIVE_SHARED_ARRAY('TRUE', `JSON_ARRAY(j.o, IF(j.o = ?, ${NOW_MS} + ?, j.e))`)}),
  expires_at = IF(owner = ?, ${NOW_MS} + ?, GREATEST(expires_at, ${NOW_MS} + ?))
WHERE \`key\` = ? AND ((owner = ? AND expires_at > ${NOW_MS}) OR ${MY_SHARED})`,

    // ? key, ? owner, ? ttl, ? clientId. Takes the lock whoever holds it (and leaves the queue); returns the token.
    steal: `INSERT INTO ${table} (\`key\`, owner, expires_at, shared, queue, fence)
SELECT n.k, n.o, n.us DIV 1000 + n.ttl, JSON_ARRAY(), JSON_ARRAY(), n.us
FROM (SELECT ? AS k, ? AS o, ? AS ttl, ${NOW_US} AS us, @cachelock_client := ? AS c) n
ON DUPLICATE KEY UPDATE
  fence = GREATEST(fence + 1, VALUES(fence)), owner = VALUES(owner), expires_at = VALUES(expires_at), shared = JSON_ARRAY(),
  queue = ${LIVE_QUEUE('q.c <> @cachelock_client')}, waiters = ${OTHER_WAITERS}
RETURNING fence`,

    // ? key. Matches one row when a live holder existed.
    forceRelease: `UPDATE ${table} SET owner = NULL, expires_at = ${NOW_MS}, shared = JSON_ARRAY()
WHERE \`key\` = ? AND ((owner IS NOT NULL AND expires_at > ${NOW_MS}) OR ${LIVE_SHARED(NOW_MS)})`,

    // ? key.
    holders: `SELECT ${NOW_MS} AS now, owner, expires_at, shared FROM ${table} WHERE \`key\` = ?`,

    // ? key.
    waiters: `SELECT ${NOW_MS} AS now, waiters FROM ${table} WHERE \`key\` = ?`,

    // ? retention ms, ? batch. InnoDB re-reads each row it deletes under its lock, so a row granted
    // meanwhile no longer matches.
    sweep: `DELETE FROM ${table} WHERE expires_at < ${NOW_MS} - ? AND JSON_LENGTH(${LIVE_QUEUE()}) = 0 LIMIT ?`,
  }
}
