import { WithLock } from '@cachelock/nestjs'
import { Injectable, Logger } from '@nestjs/common'
import { Cron } from '@nestjs/schedule'
import { InjectRepository } from '@nestjs/typeorm'
import { LessThan, Repository } from 'typeorm'
import { settings } from '../settings.js'
import { Product } from './product.entity.js'

/** Every instance schedules the report; each tick, exactly one of them writes it. */
@Injectable()
export class StockReport {
  static readonly everyMs = 2000
  private readonly logger = new Logger(StockReport.name)

  constructor(@InjectRepository(Product) private readonly products: Repository<Product>) {}

  // Every two seconds for the demo. The other instances skip the tick quietly; holding the lock
  // 1.5 s keeps an instance whose timer fires a little late from running the same tick again.
  @Cron('*/2 * * * * *')
  @WithLock('stock-report', { skipIfLocked: true, holdAtLeast: 1500 })
  async run(): Promise<void> {
    const tick = Math.floor(Date.now() / StockReport.everyMs)
    const low = await this.products.findBy({ stock: LessThan(5) })
    this.logger.log(
      `stock-report tick=${tick} instance=${settings.instance} low=${low.map((p) => `${p.sku}:${p.stock}`).join(',') || 'none'}`,
    )
  }
}
