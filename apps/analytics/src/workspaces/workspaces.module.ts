import { Global, Module } from '@nestjs/common';
import { WorkspacesHandlers } from './workspaces.handlers';
import { WorkspacesRepository } from './workspaces.repository';

@Global()
@Module({ providers: [WorkspacesRepository, WorkspacesHandlers], exports: [WorkspacesRepository] })
export class WorkspacesModule {}
