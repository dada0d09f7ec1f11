import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsBoolean, IsIn, IsInt, IsOptional, IsString, MaxLength, ValidateNested } from 'class-validator';
import { defineRequest, requestSubject } from '../../define';
import { MESSAGE_CHANNELS } from '../events/message-status-changed.v1';

/** Most templates one lookup names (a journey's send steps, deduplicated). */
export const TEMPLATE_LOOKUP_MAX = 500;

export class LookupTemplatesRequestV1 {
  /** Template ids or names, as send steps and send requests name them. */
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(TEMPLATE_LOOKUP_MAX)
  @IsString({ each: true })
  @MaxLength(255, { each: true })
  templateIds!: string[];
}

export class TemplateLookupV1 {
  /** As asked for: an id or a name. */
  @IsString()
  templateId!: string;

  /** Whether a template by that id or name exists in the workspace. */
  @IsBoolean()
  exists!: boolean;

  /** Its latest published version; absent when it has none (sends to it fail as unknown_template). */
  @IsOptional()
  @IsInt()
  publishedVersion?: number;

  /** The channel it sends on, when it exists. */
  @IsOptional()
  @IsIn(MESSAGE_CHANNELS)
  channel?: (typeof MESSAGE_CHANNELS)[number];
}

export class LookupTemplatesResponseV1 {
  /** One per id asked for, in the same order. */
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => TemplateLookupV1)
  templates!: TemplateLookupV1[];
}

export const LOOKUP_TEMPLATES_V1 = defineRequest({
  subject: requestSubject('messaging', 'templates', 'lookup', 1),
  request: LookupTemplatesRequestV1,
  response: LookupTemplatesResponseV1,
  description:
    "Tells whether templates exist in the request's workspace (the workspace header), with the channel and latest published version of each. Answered by messaging, which owns templates; journeys asks before publishing a journey that sends them.",
});
