/** Everything the shop reads from its environment. */
export const settings = {
  /** `0` takes any free port (the URL is printed). */
  port: Number(process.env.PORT ?? 3000),
  /** The SQLite file every instance of the shop shares. */
  database: process.env.DATABASE ?? 'shop.db',
  /** A name for this instance in logs and orders. */
  instance: process.env.INSTANCE ?? `shop-${process.pid}`,
  /** Lock keys are this plus the lock name; instances that share it exclude each other. */
  lockPrefix: process.env.LOCK_PREFIX ?? 'shop:lock:',
}
