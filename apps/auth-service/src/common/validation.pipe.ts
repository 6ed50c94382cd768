import { ArgumentMetadata, Injectable, PipeTransform, ValidationError, ValidationPipe } from '@nestjs/common';
import { ApiError } from './api-error';

function flatten(errors: ValidationError[], parent = ''): string[] {
  return errors.flatMap((error) => {
    const path = parent ? `${parent}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((m) =>
      m.startsWith(error.property) ? m.replace(error.property, path) : `${path}: ${m}`,
    );
    return [...own, ...flatten(error.children ?? [], path)];
  });
}

/**
 * Whitelisting validation: unknown fields and wrong types are a 400 `validation_failed` listing
 * every problem; a body that is not a JSON object is refused before class-transformer sees it.
 */
@Injectable()
export class StrictValidationPipe implements PipeTransform {
  private readonly inner = new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    transform: true,
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => new ApiError('validation_failed', flatten(errors)),
  });

  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    if (metadata.type === 'body' && metadata.metatype && metadata.metatype !== Object) {
      if (value === undefined || value === null) value = {};
      if (typeof value !== 'object' || Array.isArray(value)) {
        throw new ApiError('validation_failed', ['The request body must be a JSON object']);
      }
    }
    return this.inner.transform(value, metadata);
  }
}
