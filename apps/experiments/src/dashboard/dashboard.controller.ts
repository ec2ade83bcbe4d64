import { readFileSync } from 'node:fs';
import { Controller, Get, Header, Param, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import { DomainError } from '@recsys/platform';
import { DASHBOARD_HTML, DASHBOARD_JS } from './page';

/** Third-party assets of the page, served from node_modules (nothing outside the npm registry is reachable at run time). */
const ASSETS: Record<string, { module: string; type: string }> = {
  'pico.min.css': { module: '@picocss/pico/css/pico.min.css', type: 'text/css; charset=utf-8' },
  'echarts.min.js': { module: 'echarts/dist/echarts.min.js', type: 'text/javascript; charset=utf-8' },
};

@ApiExcludeController()
@Controller('dashboard')
export class DashboardController {
  private readonly cache = new Map<string, Buffer>();

  @Get()
  @Header('content-type', 'text/html; charset=utf-8')
  page() {
    return DASHBOARD_HTML;
  }

  @Get('app.js')
  @Header('content-type', 'text/javascript; charset=utf-8')
  script() {
    return DASHBOARD_JS;
  }

  @Get('assets/:file')
  asset(@Param('file') file: string, @Res() res: Response) {
    const a = ASSETS[file];
    if (!a) throw new DomainError('asset_not_found', 404, `no dashboard asset '${file}'`);
    let body = this.cache.get(file);
    if (!body) {
      body = readFileSync(require.resolve(a.module));
      this.cache.set(file, body);
    }
    res.setHeader('content-type', a.type);
    res.setHeader('cache-control', 'public, max-age=3600');
    res.send(body);
  }
}
