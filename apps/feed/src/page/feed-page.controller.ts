import { Controller, Get, Header } from '@nestjs/common';
import { FEED_PAGE_CSP, FEED_PAGE_HTML } from './feed.page.js';

/** Serves the live feed page at `/`. */
@Controller()
export class FeedPageController {
  @Get()
  @Header('Content-Type', 'text/html; charset=utf-8')
  @Header('Content-Security-Policy', FEED_PAGE_CSP)
  @Header('Cache-Control', 'no-cache')
  page(): string {
    return FEED_PAGE_HTML;
  }
}
