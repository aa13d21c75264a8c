import { CachelockTypeOrmModule } from '@cachelock/nestjs/typeorm'
import { Module } from '@nestjs/common'
import { Order } from './order.entity.js'
import { Product } from './product.entity.js'
import { ShopController } from './shop.controller.js'
import { ShopService } from './shop.service.js'
import { StockReport } from './stock-report.js'

@Module({
  // Product's lockable repository (and TypeORM's own repositories, for @InjectRepository).
  imports: [CachelockTypeOrmModule.forFeature([Product, Order])],
  controllers: [ShopController],
  providers: [ShopService, StockReport],
})
export class ShopModule {}
