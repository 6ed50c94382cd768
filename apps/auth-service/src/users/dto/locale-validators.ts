import { registerDecorator, ValidationOptions } from 'class-validator';

const timeZones = new Set(Intl.supportedValuesOf('timeZone'));

/** A BCP 47 language tag as the platform's Intl implementation understands it (e.g. `pt-BR`). */
export function isBcp47Locale(value: unknown): boolean {
  if (typeof value !== 'string' || !/^[A-Za-z0-9-]+$/.test(value)) return false;
  try {
    return Intl.getCanonicalLocales(value).length === 1;
  } catch {
    return false;
  }
}

/** An IANA time-zone name known to the platform (`Europe/Paris`, `UTC`). */
export function isIanaTimeZone(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  if (timeZones.has(value)) return true;
  try {
    // Links and aliases (e.g. `UTC`, `US/Eastern`) are valid though not listed.
    new Intl.DateTimeFormat('en', { timeZone: value });
    return true;
  } catch {
    return false;
  }
}

function simple(name: string, test: (v: unknown) => boolean, message: string) {
  return (options?: ValidationOptions): PropertyDecorator =>
    (target, propertyName) =>
      registerDecorator({
        name,
        target: target.constructor,
        propertyName: propertyName as string,
        options: { message, ...options },
        validator: { validate: test },
      });
}

export const IsBcp47Locale = simple(
  'isBcp47Locale',
  isBcp47Locale,
  '$property must be a BCP 47 language tag',
);
export const IsIanaTimeZone = simple('isIanaTimeZone', isIanaTimeZone, '$property must be an IANA time zone');
