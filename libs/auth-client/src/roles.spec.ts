import { hasRoles } from './roles';

describe('hasRoles', () => {
  it('no requirement is always met', () => {
    expect(hasRoles([])).toBe(true);
    expect(hasRoles([], undefined)).toBe(true);
    expect(hasRoles(['user'], {})).toBe(true);
  });

  it('all: every listed role is needed', () => {
    expect(hasRoles(['user', 'admin'], { all: ['admin'] })).toBe(true);
    expect(hasRoles(['user', 'admin'], { all: ['admin', 'user'] })).toBe(true);
    expect(hasRoles(['user'], { all: ['admin', 'user'] })).toBe(false);
    expect(hasRoles([], { all: ['admin'] })).toBe(false);
  });

  it('any: one listed role is enough', () => {
    expect(hasRoles(['support'], { any: ['admin', 'support'] })).toBe(true);
    expect(hasRoles(['user'], { any: ['admin', 'support'] })).toBe(false);
  });

  it('several requirements must all be met (controller and route decorators add up)', () => {
    const controller = { all: ['staff'] };
    const route = { any: ['admin', 'billing'] };
    expect(hasRoles(['staff', 'billing'], controller, route)).toBe(true);
    expect(hasRoles(['billing'], controller, route)).toBe(false);
    expect(hasRoles(['staff'], controller, route)).toBe(false);
  });

  it('compares exactly: no prefix, case or substring matches', () => {
    expect(hasRoles(['Admin'], { all: ['admin'] })).toBe(false);
    expect(hasRoles(['admin2'], { all: ['admin'] })).toBe(false);
    expect(hasRoles(['adm'], { any: ['admin'] })).toBe(false);
  });
});
