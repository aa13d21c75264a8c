import { InjectLockableRepository, type RepositoryWithLocks } from '@cachelock/nestjs/typeorm'
import { ConflictException, Injectable } from '@nestjs/common'
import { settings } from '../settings.js'
import { Order } from './order.entity.js'
import { Product } from './product.entity.js'

@Injectable()
export class ShopService {
  constructor(@InjectLockableRepository(Product) private readonly products: RepositoryWithLocks<Product>) {}

  /**
   * One unit of `sku` for `customer`. The product's row lock is held across the read, the check and
   * the write, in every instance at once: no unit is sold twice. The row is read fresh inside the
   * lock, and the transaction commits only while the lock is still held.
   */
  purchase(sku: string, customer: string): Promise<Order> {
    return this.products.withLock(
      { sku },
      async (product, manager) => {
        if (product.stock < 1) throw new ConflictException({ statusCode: 409, error: 'Conflict', message: 'Sold out', code: 'SOLD_OUT' })
        product.stock -= 1
        await manager.save(product)
        return manager.save(manager.create(Order, { sku, customer, instance: settings.instance }))
      },
      { timeout: 10_000 },
    )
  }

  product(sku: string): Promise<Product> {
    return this.products.findOneByOrFail({ sku })
  }
}
