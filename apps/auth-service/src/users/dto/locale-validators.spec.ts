import { isBcp47Locale, isIanaTimeZone } from './locale-validators';

describe('locale and time-zone validators', () => {
  it.each(['en', 'en-GB', 'pt-BR', 'zh-Hant-TW', 'sr-Latn'])('accepts the language tag %s', (tag) => {
    expect(isBcp47Locale(tag)).toBe(true);
  });

  it.each(['', 'english!', 'en_GB', 'x', '123456789', 42, null])('refuses %p as a language tag', (tag) => {
    expect(isBcp47Locale(tag)).toBe(false);
  });

  it.each(['Europe/Paris', 'America/Sao_Paulo', 'UTC', 'Asia/Kolkata'])('accepts the time zone %s', (tz) => {
    expect(isIanaTimeZone(tz)).toBe(true);
  });

  it.each(['Mars/Olympus', 'Europe/Nowhere', '', 'GMT+25', 7])('refuses %p as a time zone', (tz) => {
    expect(isIanaTimeZone(tz)).toBe(false);
  });
});
