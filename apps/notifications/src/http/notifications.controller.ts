import { Controller, Get, Inject, Query } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { z } from 'zod';
import { NotificationRows } from '../notifying/notification.rows.js';
import type { NotificationView } from '../notifying/notification.view.js';
import { listNotificationsQuery } from './notifications.requests.js';
import { ZodRequestPipe } from '../../../sample-kit/src/index.js';

/** Notifications listed per request, newest first; older ones are not paged through (a demo's inbox, not an archive). */
export const NOTIFICATIONS_PAGE = 100;

/** The public contract of DESIGN §8: what was delivered to a user. */
@Controller('notifications')
export class NotificationsController {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    private readonly rows: NotificationRows,
  ) {}

  @Get()
  async list(
    @Query(new ZodRequestPipe(listNotificationsQuery, 'query')) query: z.infer<typeof listNotificationsQuery>,
  ): Promise<{ items: NotificationView[] }> {
    return { items: await this.rows.listFor(this.dataSource.manager, query.userId, NOTIFICATIONS_PAGE) };
  }
}
