import { BadRequestException, ValidationPipe } from '@nestjs/common';
import { flattenValidationErrors } from '@tessera/contracts';

/**
 * Validates every DTO. Unknown fields are refused rather than silently dropped, and the 400 body
 * lists the path of every failing field:
 *   { statusCode: 400, error: 'Bad Request', message: 'Validation failed', errors: [{ path, messages }] }
 */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    transform: true,
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    exceptionFactory: (errors) => new BadRequestException({ statusCode: 400, error: 'Bad Request', message: 'Validation failed', errors: flattenValidationErrors(errors) }),
  });
}
