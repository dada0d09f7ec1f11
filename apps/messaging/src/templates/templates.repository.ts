import { Injectable } from '@nestjs/common';
import { v7 as uuidv7 } from 'uuid';
import { PrismaService } from '../database/prisma.service';
import type { Prisma, Template, TemplatePartial, TemplateVersion } from '../generated/prisma/client';

const isUuid = (value: string): boolean => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value);

/** The only code that touches template, template_version and template_partial. */
@Injectable()
export class TemplatesRepository {
  constructor(private readonly prisma: PrismaService) {}

  create(data: Prisma.TemplateUncheckedCreateInput): Promise<Template> {
    return this.prisma.template.create({ data });
  }

  list(workspaceId: string): Promise<Template[]> {
    return this.prisma.template.findMany({ where: { workspaceId }, orderBy: { name: 'asc' } });
  }

  /** By id, or by name (the send request's templateId may be either). */
  find(workspaceId: string, idOrName: string): Promise<Template | null> {
    return this.prisma.template.findFirst({ where: { workspaceId, ...(isUuid(idOrName) ? { id: idOrName } : { name: idOrName }) } });
  }

  /** Every template named by one of `idsOrNames` (ids or names), in one query. */
  findMany(workspaceId: string, idsOrNames: string[]): Promise<Template[]> {
    const ids = idsOrNames.filter(isUuid);
    const names = idsOrNames.filter((n) => !isUuid(n));
    return this.prisma.template.findMany({ where: { workspaceId, OR: [{ id: { in: ids } }, { name: { in: names } }] } });
  }

  async update(workspaceId: string, id: string, data: Prisma.TemplateUpdateManyMutationInput): Promise<Template | null> {
    const { count } = await this.prisma.template.updateMany({ where: { workspaceId, id }, data });
    return count ? this.prisma.template.findFirst({ where: { workspaceId, id } }) : null;
  }

  /** Copies the draft into the next immutable version. */
  async publish(workspaceId: string, id: string): Promise<TemplateVersion | null> {
    return this.prisma.$transaction(async (tx) => {
      const rows = await tx.$queryRaw<Template[]>`SELECT id FROM template WHERE workspace_id = ${workspaceId}::uuid AND id = ${id}::uuid FOR UPDATE`;
      if (!rows.length) return null;
      const template = await tx.template.update({ where: { id }, data: { latestVersion: { increment: 1 } } });
      return tx.templateVersion.create({
        data: {
          id: uuidv7(),
          workspaceId,
          templateId: id,
          version: template.latestVersion,
          channel: template.channel,
          subscriptionGroup: template.subscriptionGroup,
          requiredVariables: template.requiredVariables,
          content: template.content as object,
        },
      });
    });
  }

  /** Removes the template and its versions. Sent messages keep its id in their history. */
  async delete(workspaceId: string, id: string): Promise<void> {
    await this.prisma.$transaction([
      this.prisma.templateVersion.deleteMany({ where: { workspaceId, templateId: id } }),
      this.prisma.template.deleteMany({ where: { workspaceId, id } }),
    ]);
  }

  versions(workspaceId: string, templateId: string): Promise<TemplateVersion[]> {
    return this.prisma.templateVersion.findMany({ where: { workspaceId, templateId }, orderBy: { version: 'desc' } });
  }

  version(workspaceId: string, templateId: string, version: number): Promise<TemplateVersion | null> {
    return this.prisma.templateVersion.findFirst({ where: { workspaceId, templateId, version } });
  }

  latestVersion(workspaceId: string, templateId: string): Promise<TemplateVersion | null> {
    return this.prisma.templateVersion.findFirst({ where: { workspaceId, templateId }, orderBy: { version: 'desc' } });
  }

  putPartial(workspaceId: string, name: string, body: string): Promise<TemplatePartial> {
    return this.prisma.templatePartial.upsert({ where: { workspaceId_name: { workspaceId, name } }, create: { workspaceId, name, body }, update: { body } });
  }

  partials(workspaceId: string): Promise<TemplatePartial[]> {
    return this.prisma.templatePartial.findMany({ where: { workspaceId } });
  }
}
