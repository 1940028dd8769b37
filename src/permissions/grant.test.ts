import { describe, expect, it } from 'vitest';
import { checkGrant } from './grant.js';

describe('checkGrant (§9, PUT /admin/keys/:id/permissions)', () => {
  it('the first failing entry wins, in order', () => {
    expect(checkGrant(['keys:list'], ['bogus', 'admin'])).toEqual({
      code: 'invalid_permission_format',
      status: 400,
      message: 'Invalid permission format: Unknown permission category: bogus',
      permission: 'bogus',
    });
    expect(checkGrant(['keys:list'], ['admin', 'bogus'])).toEqual({
      code: 'exceeds_own',
      status: 403,
      message: 'Cannot grant permissions that exceed your own',
      permission: 'admin',
    });
  });

  it('carries the parse message verbatim, empty segment included', () => {
    expect(checkGrant(['admin'], ['context:capabilities'])?.message).toBe(
      'Invalid permission format: Unknown context capabilities action: ',
    );
  });

  it('uses validatePermissions, so the exact-string rule applies (unlike keyHasPermission)', () => {
    expect(checkGrant(['package:list-packages'], ['package:list-packages'])).toBeUndefined();
  });

  it('a format error is reported even for an admin caller', () => {
    expect(checkGrant(['admin'], ['context:list', 'Context:list'])?.status).toBe(400);
  });
});
