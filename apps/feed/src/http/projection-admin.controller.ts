import { ConflictException, Controller, Get, HttpCode, NotFoundException, Param, Post } from '@nestjs/common';
import { ProjectionRebuildRunningError, type SkippedEvent } from '@tidings/core';
import { Projections, type ProjectionReport } from '@tidings/nestjs';

/**
 * Operating the service's projections over HTTP: their state, a rebuild from the event log while the feed keeps
 * serving, and the events they skipped. Unauthenticated, as the whole sample is: put it behind your admin network
 * or auth in a real service.
 */
@Controller('admin/projections')
export class ProjectionAdminController {
  constructor(private readonly projections: Projections) {}

  /** Positions of the live copy and of a rebuild's copy, the log's head, and the progress of a rebuild started here. */
  @Get(':name')
  status(@Param('name') name: string): Promise<ProjectionReport> {
    return this.projections.status(this.known(name));
  }

  /** Starts a rebuild (or resumes an interrupted one); 202 with the state, 409 if one is running. */
  @Post(':name/rebuild')
  @HttpCode(202)
  async rebuild(@Param('name') name: string): Promise<ProjectionReport> {
    try {
      await this.projections.startRebuild(this.known(name));
    } catch (error) {
      if (error instanceof ProjectionRebuildRunningError) throw new ConflictException(error.message);
      throw error;
    }
    return this.projections.status(name);
  }

  /** Events the live copy passed over (malformed, invalid, a version it cannot read), newest first. */
  @Get(':name/skipped')
  skipped(@Param('name') name: string): Promise<SkippedEvent[]> {
    return this.projections.skipped(this.known(name));
  }

  private known(name: string): string {
    if (!this.projections.names().includes(name)) {
      throw new NotFoundException(`No projection named ${name}; this service has ${this.projections.names().join(', ')}`);
    }
    return name;
  }
}
