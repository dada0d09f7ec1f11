import { BadRequestException } from '@nestjs/common';
import type { FieldError } from './profile';

/** The same 400 body the global ValidationPipe answers with. */
export function validationFailed(errors: FieldError[]): BadRequestException {
  return new BadRequestException({ statusCode: 400, error: 'Bad Request', message: 'Validation failed', errors });
}
