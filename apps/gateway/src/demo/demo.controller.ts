import { Controller, Get, Header } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { demoPage } from './demo.page';

const DEMO_USERS = Array.from({ length: 20 }, (_, i) => `demo-user-${i}`);

@ApiExcludeController()
@Controller()
export class DemoController {
  private readonly html = demoPage(DEMO_USERS);

  @Get()
  @Header('content-type', 'text/html; charset=utf-8')
  page() {
    return this.html;
  }
}
