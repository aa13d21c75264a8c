import { CachelockModule, LockExceptionFilter } from '@cachelock/nestjs'
import { CachelockTypeOrmModule } from '@cachelock/nestjs/typeorm'
import { Module } from '@nestjs/common'
import { APP_FILTER } from '@nestjs/core'
import { ScheduleModule } from '@nestjs/schedule'
import { TypeOrmModule } from '@nestjs/typeorm'
import { settings } from './settings.js'
import { Order } from './shop/order.entity.js'
import { Product } from './shop/product.entity.js'
import { ShopModule } from './shop/shop.module.js'

@Module({
  imports: [
    TypeOrmModule.forRoot({ type: 'better-sqlite3', database: settings.database, entities: [Product, Order], enableWAL: true }),
    // The store comes from CACHELOCK_URL (redis://…); without it, an in-process store (with a warning).
    CachelockModule.forRoot({ prefix: settings.lockPrefix }),
    CachelockTypeOrmModule.forRoot(),
    ScheduleModule.forRoot(),
    ShopModule,
  ],
  // Lock timeouts answer 409, a lost lock or a store outage 503, a missing product 404.
  providers: [{ provide: APP_FILTER, useClass: LockExceptionFilter }],
})
export class AppModule {}
