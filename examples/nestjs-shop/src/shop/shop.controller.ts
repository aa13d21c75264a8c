import { Body, Controller, Get, Param, Post } from '@nestjs/common'
import { ShopService } from './shop.service.js'

@Controller('products')
export class ShopController {
  constructor(private readonly shop: ShopService) {}

  @Get(':sku')
  product(@Param('sku') sku: string) {
    return this.shop.product(sku)
  }

  @Post(':sku/purchase')
  async purchase(@Param('sku') sku: string, @Body() body: { customer?: string }) {
    const order = await this.shop.purchase(sku, body.customer ?? 'anonymous')
    return { orderId: order.id, instance: order.instance }
  }
}
